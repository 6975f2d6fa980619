import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  makeTempDir,
  postgresBinDir,
  redisServerBinary,
  startPostgres,
  startRedis,
  stopAll,
} from "./index.js";

const saved = { ...process.env };
afterEach(async () => {
  process.env = { ...saved };
  await stopAll();
});

describe("postgresBinDir", () => {
  it.runIf(existsSync("/usr/lib/postgresql"))(
    "finds Debian's PostgreSQL server binaries without configuration",
    () => {
      delete process.env.PWDR_TEST_PG_BIN;
      expect(postgresBinDir()).toMatch(/^\/usr\/lib\/postgresql\/\d+\/bin$/);
    },
  );

  it("honours PWDR_TEST_PG_BIN", () => {
    const found = postgresBinDir();
    process.env.PWDR_TEST_PG_BIN = `${found}/`;
    expect(postgresBinDir()).toBe(`${found}/`);
  });

  it("refuses a PWDR_TEST_PG_BIN without server binaries instead of falling back", async () => {
    process.env.PWDR_TEST_PG_BIN = "/usr/bin";
    await expect(startPostgres()).rejects.toMatchObject({
      name: "BinaryNotFoundError",
      code: "HARNESS_BINARY_NOT_FOUND",
      message: expect.stringContaining("PWDR_TEST_PG_BIN=/usr/bin"),
    });
  });
});

describe("redisServerBinary", () => {
  it("finds redis-server on PATH", () => {
    delete process.env.PWDR_TEST_REDIS_SERVER;
    expect(redisServerBinary()).toMatch(/\/redis-server$/);
  });

  it("says how to install it when it is missing", async () => {
    delete process.env.PWDR_TEST_REDIS_SERVER;
    process.env.PATH = "/nonexistent";
    await expect(startRedis()).rejects.toMatchObject({
      code: "HARNESS_BINARY_NOT_FOUND",
      message: expect.stringContaining("apt-get install redis-server"),
    });
  });

  it("refuses a PWDR_TEST_REDIS_SERVER that is not executable", () => {
    const notExecutable = join(makeTempDir("binaries"), "redis-server");
    writeFileSync(notExecutable, "", { mode: 0o644 });
    process.env.PWDR_TEST_REDIS_SERVER = notExecutable;
    expect(() => redisServerBinary()).toThrow(expect.objectContaining({ code: "HARNESS_BINARY_NOT_FOUND" }));
  });
});
