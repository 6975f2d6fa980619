import { describe, expect, it } from "vitest";
import { databaseDumpJobs, databaseDumpPaths } from "./pg-dump-jobs.js";

const tables = [
  { schema: "public", name: "gps", bytes: 40, builds: [] },
  { schema: "public", name: "sessions", bytes: 5, builds: [] },
  { schema: "public", name: "wifi", bytes: 200, builds: [] },
  { schema: "public", name: "vendors", bytes: 1, builds: [] },
];

describe("databaseDumpJobs", () => {
  it("starts the largest table, then the schema and the other tables smallest first", () => {
    const jobs = databaseDumpJobs("pw", "00000003-1", tables);
    expect(jobs.map((j) => j.path.replace("/postgres/pw/", ""))).toEqual([
      "data/public.wifi.dump",
      "pre-data.dump",
      "post-data.dump",
      "other-data.dump",
      "data/public.vendors.dump",
      "data/public.sessions.dump",
      "data/public.gps.dump",
    ]);
  });

  it("has every dump read the exported snapshot, and dumps each table exactly once", () => {
    const jobs = databaseDumpJobs("pw", "00000003-1", tables);
    for (const j of jobs) expect(j.run.args).toContain("--snapshot=00000003-1");
    expect(new Set(jobs.map((j) => j.path))).toEqual(new Set(databaseDumpPaths("pw", tables)));
    const other = jobs.find((j) => j.path.endsWith("other-data.dump"));
    expect(other?.run.args.filter((a) => a === "-T")).toHaveLength(tables.length);
  });
});
