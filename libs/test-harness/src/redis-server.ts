import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidOptionsError, ServerStartError } from "./errors.js";
import { freePort } from "./free-port.js";
import { redisServerBinary } from "./redis-binary.js";
import { RedisProcess } from "./redis-process.js";
import { resourceRegistry } from "./resource-registry.js";
import { createTempDir } from "./temp-dir.js";

const HOST = "127.0.0.1";
const PORT_ATTEMPTS = 3;

export interface RedisOptions {
  /** `appendonly yes`, as production runs Redis. Default false. */
  appendonly?: boolean;
  /** Extra redis.conf directives, written after the harness's own so they win. */
  extraConfig?: Record<string, string>;
}

export interface RedisServer {
  host: string;
  port: number;
  url: string;
  /** Redis's `dir`: holds redis.conf, redis.log, dump.rdb and appendonlydir/. Removed by stop(). */
  dir: string;
  configFile: string;
  logFile: string;
  appendonly: boolean;
  /** Pid of the current redis-server process (it changes on restart). */
  readonly pid: number | undefined;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
  /** Shuts down gracefully (SIGTERM, so the AOF is flushed) and starts again with the same config and port. */
  restart(): Promise<void>;
}

/** A throwaway Redis on a free loopback port, torn down even if the test process is killed. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const extraLines = extraConfigLines(options.extraConfig ?? {});
  const tempDir = createTempDir("redis");
  const dir = tempDir.path;
  const configFile = join(dir, "redis.conf");
  const logFile = join(dir, "redis.log");
  const appendonly = options.appendonly ?? false;
  const redis = new RedisProcess(binary, configFile, logFile);
  const stop = async () => resourceRegistry().dispose([...redis.registration, tempDir.resourceId]);
  try {
    const port = await startOnFreePort(redis, (port) =>
      writeFileSync(configFile, configText({ port, dir, logFile, appendonly }, extraLines)),
    );
    return {
      host: HOST,
      port,
      url: `redis://${HOST}:${port}`,
      dir,
      configFile,
      logFile,
      appendonly,
      get pid() {
        return redis.pid;
      },
      stop,
      restart: async () => {
        await redis.shutdown();
        await redis.start(HOST, port);
      },
    };
  } catch (error) {
    // The start failure is the error worth reporting, not a secondary cleanup one.
    await stop().catch(() => {});
    throw error;
  }
}

/** Another process can grab the probed port before Redis binds it; then try another. */
async function startOnFreePort(redis: RedisProcess, writeConfig: (port: number) => void): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeConfig(port);
    try {
      await redis.start(HOST, port);
      return port;
    } catch (error) {
      const portTaken = error instanceof ServerStartError && /Address already in use/.test(error.message);
      if (!portTaken || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

function extraConfigLines(extraConfig: Record<string, string>): string[] {
  return Object.entries(extraConfig).map(([key, value]) => {
    if (!/^[a-z][a-z0-9-]*$/i.test(key) || /[\r\n]/.test(value)) {
      throw new InvalidOptionsError(
        `invalid redis.conf directive ${JSON.stringify(key)} ${JSON.stringify(value)}`,
      );
    }
    return `${key} ${value}`;
  });
}

function configText(
  settings: { port: number; dir: string; logFile: string; appendonly: boolean },
  extraLines: readonly string[],
): string {
  // JSON strings are valid redis.conf quoted strings, so unusual temp paths stay one argument.
  const lines = [
    `port ${settings.port}`,
    `bind ${HOST}`,
    "daemonize no",
    `dir ${JSON.stringify(settings.dir)}`,
    `logfile ${JSON.stringify(settings.logFile)}`,
    `appendonly ${settings.appendonly ? "yes" : "no"}`,
    ...extraLines,
  ];
  return `${lines.join("\n")}\n`;
}
