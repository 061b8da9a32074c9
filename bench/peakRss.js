// Preloaded (`node -r bench/peakRss.js`) into a CLI process a benchmark runs: on exit, writes the
// process's peak resident set size (VmHWM, MB) and the CPU time it used (user + system, all its
// threads, ms) to $OSM_PEAK_RSS_FILE, so the figures are the whole process's, measured by the
// kernel, without changing the program.
const fs = require('node:fs');

process.on('exit', () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (m && process.env.OSM_PEAK_RSS_FILE)
    fs.writeFileSync(
      process.env.OSM_PEAK_RSS_FILE,
      JSON.stringify({ peakRssMb: Number(m[1]) / 1024, cpuMs: cpuMs(process.cpuUsage()) }),
    );
});

const cpuMs = (u) => (u.user + u.system) / 1000;
