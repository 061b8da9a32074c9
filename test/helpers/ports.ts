/** A free loopback TCP port (bound then released; good enough for tests on one machine). */
export { freeLoopbackPort as freePort } from '../../src/core/redis/redisProcess';
