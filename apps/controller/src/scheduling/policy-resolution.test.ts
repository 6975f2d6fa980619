import type { Policy } from "@pwdr/catalog";
import { describe, expect, it } from "vitest";
import { effectivePolicy, governingPolicy, HOST_SELECTOR_KEY, resolvePolicy } from "./policy-resolution.js";

let counter = 0;
function policy(fields: Partial<Policy> & { name: string }): Policy {
  counter++;
  return {
    id: `p-${fields.name}`,
    parentId: null,
    selector: {},
    sources: null,
    schedule: null,
    retention: null,
    verification: null,
    scheduling: null,
    repositoryId: null,
    enabled: true,
    createdAt: new Date(counter),
    updatedAt: new Date(counter),
    ...fields,
  };
}

const host = (name: string, labels: Record<string, string>) => ({ id: `h-${name}`, name, labels });

const fleet = policy({
  name: "fleet",
  schedule: "15 2 * * *",
  retention: { keepDaily: 7 },
  scheduling: { rpo: "26h", jitter: "30m" },
  verification: { checkSchedule: "0 4 * * 0" },
});
const edge = policy({
  name: "edge",
  parentId: fleet.id,
  selector: { role: "edge" },
  sources: [{ name: "db", kind: "postgres" }],
  scheduling: { window: { start: "22:00", end: "04:00" } },
});
const edgeLab = policy({ name: "edge-lab", parentId: edge.id, selector: { role: "edge", site: "lab" } });
const pinned = policy({
  name: "pi-07-only",
  parentId: edge.id,
  selector: { [HOST_SELECTOR_KEY]: "pi-07" },
  schedule: "0 * * * *",
  scheduling: { jitter: null as unknown as string, rpo: "2h" },
});
const all = [fleet, edge, edgeLab, pinned];

describe("governingPolicy", () => {
  it("picks the deepest matching policy, then the one with more selector pairs, then the first name", () => {
    expect(governingPolicy(all, host("pi-01", {}))?.name).toBe("fleet");
    expect(governingPolicy(all, host("pi-02", { role: "edge" }))?.name).toBe("edge");
    expect(governingPolicy(all, host("pi-03", { role: "edge", site: "lab" }))?.name).toBe("edge-lab");
    // pi-07-only and edge-lab are both children of edge; edge-lab has two pairs.
    expect(governingPolicy(all, host("pi-07", { role: "edge", site: "lab" }))?.name).toBe("edge-lab");
    expect(governingPolicy(all, host("pi-07", { role: "edge" }))?.name).toBe("pi-07-only");
    const twin = policy({ name: "another-lab", parentId: edge.id, selector: { role: "edge", site: "lab" } });
    expect(governingPolicy([...all, twin], host("pi-03", { role: "edge", site: "lab" }))?.name).toBe(
      "another-lab",
    );
  });

  it("matches on every selector pair and skips disabled policies", () => {
    expect(governingPolicy(all, host("pi-04", { site: "lab" }))?.name).toBe("fleet");
    const disabled = all.map((p) => (p.name === "edge-lab" ? { ...p, enabled: false } : p));
    expect(governingPolicy(disabled, host("pi-03", { role: "edge", site: "lab" }))?.name).toBe("edge");
    expect(effectivePolicy([{ ...fleet, enabled: false }], host("pi-01", {}))).toBeUndefined();
  });
});

describe("resolvePolicy", () => {
  it("fills each unset field from the parent chain and names where it came from", () => {
    const resolved = resolvePolicy(all, pinned);
    expect(resolved).toMatchObject({
      governing: { id: pinned.id, name: "pi-07-only" },
      schedule: "0 * * * *",
      sources: [{ name: "db", kind: "postgres" }],
      retention: { keepDaily: 7 },
      repositoryId: null,
      verification: { checkSchedule: "0 4 * * 0" },
      scheduling: { window: { start: "22:00", end: "04:00" }, jitter: "30m", rpo: "2h" },
    });
    expect(resolved.origins).toEqual({
      schedule: { policyId: pinned.id, policyName: "pi-07-only" },
      sources: { policyId: edge.id, policyName: "edge" },
      retention: { policyId: fleet.id, policyName: "fleet" },
      "verification.checkSchedule": { policyId: fleet.id, policyName: "fleet" },
      "scheduling.window": { policyId: edge.id, policyName: "edge" },
      // A null inside the group inherits like a missing field.
      "scheduling.jitter": { policyId: fleet.id, policyName: "fleet" },
      "scheduling.rpo": { policyId: pinned.id, policyName: "pi-07-only" },
    });
  });

  it("stops at a cycle instead of looping", () => {
    const a = policy({ name: "a", parentId: "p-b" });
    const b = policy({ name: "b", parentId: "p-a", schedule: "0 1 * * *" });
    expect(resolvePolicy([a, b], a).schedule).toBe("0 1 * * *");
  });
});
