import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir } from "@pwdr/test-harness";
import { beforeAll, describe, expect, it } from "vitest";
import { type HostDefinition, hostDefinitionSchema } from "../definition/host-definition.js";
import { createRecoveryPoint } from "../recovery-point/create-recovery-point.js";
import type { RecoveryPoint } from "../recovery-point/recovery-point.js";
import { restoreHost } from "./restore-host.js";

/**
 * Restoring a sub-path of one configuration or data source (what the
 * dashboard's snapshot browser asks for): only the chosen paths come back,
 * under the prefix, and every refusal comes before the services are touched.
 */
let root: string;
let servicesLog: string;
let definition: HostDefinition;
let repo: Repository;
let point: RecoveryPoint;

const FILES: Record<string, string> = {
  "etc/app.conf": "port = 8080\n",
  "data/scans/day1/wifi.json": "{}".repeat(500),
  "data/scans/day1/notes/a.txt": "a",
  "data/scans/day2/gps.csv": "lat,lon\n",
  "data/cache/tiles.bin": "tile".repeat(100),
};

/** Every file below `dir`, relative to it. */
async function filesBelow(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

beforeAll(async () => {
  root = makeTempDir("pwdr-include-host-");
  for (const [path, content] of Object.entries(FILES)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  servicesLog = join(root, "services.log");
  definition = hostDefinitionSchema.parse({
    host: "pi-include",
    sources: [
      { kind: "config", name: "config", paths: [join(root, "etc")] },
      { kind: "files", name: "data", paths: [join(root, "data")] },
    ],
    services: { type: "commands", stop: `echo stop >>${servicesLog}`, start: `echo start >>${servicesLog}` },
  });
  repo = await Repository.init(new LocalBackend(join(makeTempDir("pwdr-include-repo-"), "repo")), "pw", {
    kdf: { N: 1024, r: 8, p: 1 },
  });
  point = await createRecoveryPoint(repo, definition);
  expect(point.status).toBe("complete");
}, 60_000);

const restore = (
  include: string[],
  targetPrefix: string,
  extra: { dryRun?: boolean; only?: string[] } = {},
) =>
  restoreHost(repo, {
    recoveryPoint: point.id,
    target: definition,
    only: ["data"],
    include,
    targetPrefix,
    ...extra,
  });

describe("a host restore of included paths", () => {
  it("plans only the included paths in a dry run, sized, and writes nothing", async () => {
    const prefix = makeTempDir("pwdr-include-dry-");
    const day1 = join(root, "data/scans/day1");
    const report = await restore([day1], prefix, { dryRun: true });
    expect(report.status).toBe("planned");
    const step = report.steps.find((s) => s.kind === "restore-files");
    expect(step?.touches).toEqual([`${prefix}${day1}`]);
    expect(step?.description).toContain("only these paths of the application data");
    expect(step?.bytes).toBe(1001);
    expect(step?.result).toMatchObject({ files: 2, bytes: 1001 });
    expect(await filesBelow(prefix)).toEqual([]);
    expect(existsSync(servicesLog)).toBe(false);
  });

  it("restores exactly the included directory and file under the prefix, nothing else", async () => {
    const prefix = makeTempDir("pwdr-include-real-");
    const report = await restore([join(root, "data/scans/day1"), join(root, "data/cache/tiles.bin")], prefix);
    expect(report.status).toBe("done");
    const restored = await filesBelow(join(prefix, root));
    expect(restored).toEqual([
      "data/cache/tiles.bin",
      "data/scans/day1/notes/a.txt",
      "data/scans/day1/wifi.json",
    ]);
    for (const path of restored) expect(readFileSync(join(prefix, root, path), "utf8")).toBe(FILES[path]);
    expect(await filesBelow(prefix)).toEqual(restored.map((p) => join(root, p).slice(1)));
    expect(readFileSync(servicesLog, "utf8")).toBe("stop\nstart\n");
  });

  it("refuses, before the services stop, paths outside the snapshot, missing ones and '..'", async () => {
    const prefix = makeTempDir("pwdr-include-refused-");
    writeFileSync(servicesLog, "");
    await expect(restore(["/etc/passwd"], prefix)).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining("not in the snapshot: /etc/passwd"),
    });
    const missing = join(root, "data/scans/day9");
    await expect(restore([join(root, "data/scans/day1"), missing], prefix)).rejects.toMatchObject({
      code: "path_not_found",
      message: expect.stringContaining(missing),
    });
    await expect(restore([`${root}/data/scans/../../etc`], prefix)).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining('".."'),
    });
    expect(await filesBelow(prefix)).toEqual([]);
    expect(readFileSync(servicesLog, "utf8")).toBe("");
  });

  it("refuses an include unless exactly one configuration or data source is restored", async () => {
    const prefix = makeTempDir("pwdr-include-sources-");
    await expect(restore([join(root, "etc")], prefix, { only: [] })).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(
        /this restore has 2 \(config \(config\), data \(files\)\): name one source/,
      ),
    });
    const config = await restore([join(root, "etc/app.conf")], prefix, { only: ["config"] });
    expect(config.status).toBe("done");
    expect(await filesBelow(prefix)).toEqual([join(root, "etc/app.conf").slice(1)]);
  });
});
