// Throwaway real servers for tests: PostgreSQL, Redis, a test CA and temp dirs, all torn down when
// the test ends, fails, or its process is interrupted or killed (a detached watchdog sees to that).
export {
  BinaryNotFoundError,
  CommandFailedError,
  HarnessError,
  type HarnessErrorCode,
  InvalidOptionsError,
  ServerStartError,
  UserNotFoundError,
} from "./errors.js";
export { freePort } from "./free-port.js";
export { watchPidFile } from "./pid-file.js";
export { postgresBinDir } from "./postgres-binaries.js";
export { type PostgresOptions, type PostgresServer, startPostgres } from "./postgres-server.js";
export { redisServerBinary } from "./redis-binary.js";
export { type RedisOptions, type RedisServer, startRedis } from "./redis-server.js";
export { stopAll } from "./resource-registry.js";
export { makeTempDir } from "./temp-dir.js";
export { createTestCa, type TestCa, type TestIssuer } from "./test-ca.js";
