import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, type PostgresServer } from "@pwdr/test-harness";
import pg from "pg";

export const SUPERUSER_PASSWORD = "Sup3r-Secret-pw!";

/**
 * Switches TCP logins to scram-sha-256 with a superuser password, so a wrong
 * password is refused (the harness starts servers with trust auth).
 */
export async function requirePasswords(server: PostgresServer): Promise<void> {
  await sql(server, "postgres", `ALTER ROLE postgres PASSWORD '${SUPERUSER_PASSWORD}'`);
  const hba = join(server.dataDir, "pg_hba.conf");
  writeFileSync(hba, `host all all 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, "utf8")}`);
  await sql(server, "postgres", "SELECT pg_reload_conf()", SUPERUSER_PASSWORD);
  // The reload is asynchronous: wait until a passwordless login is refused.
  for (let i = 0; i < 50; i++) {
    if (
      !(await sql(server, "postgres", "SELECT 1").then(
        () => true,
        () => false,
      ))
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("pg_hba.conf reload did not take effect");
}

export async function sql(server: PostgresServer, database: string, text: string, password?: string) {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: "postgres",
    database,
    password,
  });
  try {
    await client.connect();
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** A PiWardrive-like schema: serial ids, jsonb, a FK, indexes, a view, a function, an app role with grants. */
export const PIWARDRIVE_SCHEMA = `
  CREATE ROLE pw_app LOGIN PASSWORD 'app-pw';
  CREATE ROLE pw_reader NOLOGIN;
  CREATE TABLE sessions (id serial PRIMARY KEY, started timestamptz NOT NULL DEFAULT '2026-01-01', device text NOT NULL);
  CREATE TABLE wifi_detections (
    id bigserial PRIMARY KEY,
    session_id int NOT NULL REFERENCES sessions(id),
    bssid text NOT NULL, ssid text, rssi int, info jsonb NOT NULL DEFAULT '{}');
  CREATE INDEX wifi_bssid_idx ON wifi_detections (bssid);
  CREATE INDEX wifi_info_idx ON wifi_detections USING gin (info);
  CREATE TABLE settings (key text PRIMARY KEY, value jsonb);
  ALTER TABLE settings OWNER TO pw_app;
  GRANT SELECT ON settings TO pw_reader;
  CREATE VIEW strong_networks AS SELECT bssid, max(rssi) AS rssi FROM wifi_detections WHERE rssi > -60 GROUP BY bssid;
  CREATE FUNCTION network_count(s int) RETURNS bigint LANGUAGE sql STABLE AS
    $$ SELECT count(DISTINCT bssid) FROM wifi_detections WHERE session_id = s $$;
  CREATE SEQUENCE export_batch_seq START 100;
  SELECT setval('export_batch_seq', 142);
  INSERT INTO sessions (device) SELECT 'pi-' || g FROM generate_series(1, 20) g;
  INSERT INTO wifi_detections (session_id, bssid, ssid, rssi, info)
    SELECT 1 + g % 20, md5(g::text), 'net-' || (g % 97), -30 - g % 70,
           jsonb_build_object('channel', g % 13, 'vendor', md5((g * 7)::text), 'seen', g)
      FROM generate_series(1, 60000) g;
  INSERT INTO settings VALUES ('gps', '{"baud": 9600}'), ('upload', '{"every": "1h"}');
`;

/**
 * Post-data whose order matters: a partitioned table (its partitions'
 * indexes attach to the parent's), unique and exclusion constraints, a
 * foreign key onto a unique constraint, a trigger, a materialized view
 * (refreshed after the data) and a table whose name needs quoting.
 */
export const POST_DATA_SCHEMA = `
  CREATE TABLE readings (id bigint NOT NULL, taken date NOT NULL, value int, PRIMARY KEY (id, taken))
    PARTITION BY RANGE (taken);
  CREATE TABLE readings_2025 PARTITION OF readings FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE readings_2026 PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE INDEX readings_value_idx ON readings (value);
  INSERT INTO readings SELECT g, date '2025-06-01' + (g % 400), g % 1000 FROM generate_series(1, 5000) g;
  CREATE TABLE devices (id int PRIMARY KEY, serial text NOT NULL UNIQUE, slot int4range NOT NULL,
    EXCLUDE USING gist (slot WITH &&));
  INSERT INTO devices SELECT g, 'sn-' || g, int4range(g * 10, g * 10 + 5) FROM generate_series(1, 300) g;
  CREATE TABLE "Device Notes" (serial text REFERENCES devices (serial), note text);
  CREATE INDEX "Device Notes serial" ON "Device Notes" (serial);
  INSERT INTO "Device Notes" SELECT 'sn-' || g, 'checked' FROM generate_series(1, 300) g;
  CREATE FUNCTION stamp_note() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN NEW.note := NEW.note || ' (stamped)'; RETURN NEW; END $$;
  CREATE TRIGGER stamp BEFORE INSERT ON "Device Notes" FOR EACH ROW EXECUTE FUNCTION stamp_note();
  CREATE MATERIALIZED VIEW readings_per_day AS SELECT taken, count(*) AS n FROM readings GROUP BY taken;
  CREATE UNIQUE INDEX readings_per_day_taken ON readings_per_day (taken);
`;

/** pg_dump + pg_dumpall --globals-only as text, without comments and blank lines, for comparing. */
export function logicalDump(server: PostgresServer, database: string): string {
  const env = {
    ...process.env,
    PGHOST: server.host,
    PGPORT: String(server.port),
    PGUSER: "postgres",
    PGPASSWORD: SUPERUSER_PASSWORD,
  };
  const run = (tool: string, args: string[]) => {
    const r = spawnSync(join(server.binDir, tool), args, {
      env,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr}`);
    return r.stdout;
  };
  const text = run("pg_dumpall", ["--globals-only"]) + run("pg_dump", ["-d", database]);
  return (
    text
      .split("\n")
      // \restrict carries a random key per run (PostgreSQL 15.14+).
      .filter((l) => l.trim() !== "" && !l.startsWith("--") && !/^\\(un)?restrict /.test(l))
      .join("\n")
  );
}

/**
 * A bin directory whose pg_dump writes a few bytes of the data of table
 * public.`failTable` and then fails: a dump dying mid-way. With `hangTable`,
 * the dump of that table records its process id in `<dir>/hang.pid` and then
 * hangs with no output until killed, and the failing dump waits for it.
 */
export function failingBinDir(realBinDir: string, failTable: string, hangTable?: string): string {
  const dir = makeTempDir("pwdr-pg-failing-bin-");
  for (const tool of ["pg_dumpall", "pg_restore", "psql"])
    symlinkSync(join(realBinDir, tool), join(dir, tool));
  const hang = hangTable
    ? `  *'-t "public"."${hangTable}"'*) echo $$ > "${join(dir, "hang.pid")}"; exec sleep 600 ;;\n`
    : "";
  const script = `#!/bin/sh
case "$*" in
${hang}  *'-t "public"."${failTable}"'*) ${hangTable ? waitFor(join(dir, "hang.pid")) : ""}printf 'PGDMP partial output'; echo "pg_dump: error: simulated crash" >&2; exit 1 ;;
esac
exec "${join(realBinDir, "pg_dump")}" "$@"
`;
  writeFileSync(join(dir, "pg_dump"), script);
  chmodSync(join(dir, "pg_dump"), 0o755);
  return dir;
}

/** A bin directory whose pg_dumpall --globals-only fails. */
export function failingGlobalsBinDir(realBinDir: string): string {
  const dir = makeTempDir("pwdr-pg-failing-globals-");
  for (const tool of ["pg_dump", "pg_restore", "psql"]) symlinkSync(join(realBinDir, tool), join(dir, tool));
  const script = `#!/bin/sh
case "$*" in
  *--globals-only*) echo "pg_dumpall: error: simulated failure" >&2; exit 1 ;;
esac
exec "${join(realBinDir, "pg_dumpall")}" "$@"
`;
  writeFileSync(join(dir, "pg_dumpall"), script);
  chmodSync(join(dir, "pg_dumpall"), 0o755);
  return dir;
}

/** Shell that waits until `file` is not empty: the failure then surely happens while the other dump runs. */
function waitFor(file: string): string {
  return `while [ ! -s "${file}" ]; do sleep 0.05; done; `;
}

/** A bin directory whose pg_dump claims to be PostgreSQL 9.6. */
export function oldPgDumpBinDir(realBinDir: string): string {
  const dir = makeTempDir("pwdr-pg-old-bin-");
  symlinkSync(join(realBinDir, "pg_dumpall"), join(dir, "pg_dumpall"));
  writeFileSync(join(dir, "pg_dump"), `#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n`);
  chmodSync(join(dir, "pg_dump"), 0o755);
  return dir;
}
