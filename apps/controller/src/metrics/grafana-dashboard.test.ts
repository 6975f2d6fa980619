import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { openCatalog } from "@pwdr/catalog";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { SessionRegistry } from "../session-registry.js";
import { ControllerMetrics } from "./controller-metrics.js";

const DASHBOARD = join(import.meta.dirname, "../../../../docs/grafana/pwdr-fleet.json");

interface Panel {
  id: number;
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr: string }[];
}

function expressions(dashboard: { panels: Panel[]; templating: { list: { query: { query: string } }[] } }) {
  const all = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...all(p.panels ?? [])]);
  const panels = all(dashboard.panels);
  return {
    panels,
    exprs: [
      ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => v.query.query),
    ],
  };
}

describe("the sample Grafana dashboard (docs/grafana/pwdr-fleet.json)", () => {
  it("is valid JSON whose every expression uses metrics the controller exports", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8"));
    const { panels, exprs } = expressions(dashboard);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    expect(exprs.length).toBeGreaterThan(20);

    const catalog = await openCatalog({ url: `file:${join(await makeTempDir("pwdr-grafana-"), "c.db")}` });
    try {
      const metrics = new ControllerMetrics({ db: catalog.db, sessions: new SessionRegistry() });
      await metrics.render();
      const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
      const referenced = new Set(exprs.flatMap((e) => e.match(/\bpwdr_[a-z0-9_]+/g) ?? []));
      expect(referenced.size).toBeGreaterThan(15);
      expect([...referenced].filter((name) => !exported.has(name))).toEqual([]);
      // Every per-host and per-source family appears on the dashboard.
      const shown = [...exported].filter((n) => /^pwdr_(source|host)_/.test(n) && !referenced.has(n));
      expect(shown).toEqual([]);
    } finally {
      await catalog.close();
    }
  });
});
