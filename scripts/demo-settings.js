// Settings of the `npm start` demo, merged into what the files already hold:
//   node scripts/demo-settings.js workspace <demo>/.vscode/settings.json
//     the extension on the demo store: no Redis (the SQLite file is the store), or the Redis
//     named by $OSM_DEMO_REDIS with the SQLite file as its fallback;
//   node scripts/demo-settings.js user <user-data>/User/settings.json
//     a quiet code-server: no update checks or telemetry, and no port-forward toasts (a local
//     redis-server or optimizer opening a port would pop "your application is available").
const fs = require('fs');

const [kind, file] = process.argv.slice(2);
let settings = {};
if (fs.existsSync(file)) {
  try {
    settings = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    console.error(`[start] ${file} is not plain JSON; leaving it as it is`);
    process.exit(0);
  }
}
if (kind === 'workspace')
  Object.assign(settings, {
    'optunaStorage.redis.url': process.env.OSM_DEMO_REDIS || '',
    'optunaStorage.sqlite.path': 'optuna.db',
  });
else if (kind === 'user')
  settings = {
    'workbench.startupEditor': 'none',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'update.mode': 'none',
    'telemetry.telemetryLevel': 'off',
    ...settings,
    'remote.autoForwardPorts': false,
  };
else {
  console.error('usage: demo-settings.js workspace|user FILE');
  process.exit(2);
}
fs.writeFileSync(file, JSON.stringify(settings, null, 2) + '\n');
