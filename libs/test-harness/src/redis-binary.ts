import { BinaryNotFoundError } from "./errors.js";
import { findOnPath, isExecutableFile } from "./find-executable.js";

/** `PWDR_TEST_REDIS_SERVER` if set, else `redis-server` on PATH. */
export function redisServerBinary(): string {
  const fromEnv = process.env.PWDR_TEST_REDIS_SERVER;
  if (fromEnv) {
    if (isExecutableFile(fromEnv)) return fromEnv;
    throw new BinaryNotFoundError(
      `PWDR_TEST_REDIS_SERVER=${fromEnv} is not an executable file; fix or unset it`,
    );
  }
  const found = findOnPath("redis-server");
  if (found) return found;
  throw new BinaryNotFoundError(
    "redis-server not found on PATH; install it (`apt-get install redis-server`) or set PWDR_TEST_REDIS_SERVER to its path",
  );
}
