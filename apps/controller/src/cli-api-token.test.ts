import { openCatalog } from "@pwdr/catalog";
import { makeTempDir } from "@pwdr/test-harness";
import type { Command } from "commander";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { controllerCli } from "./cli.js";

let dataDir: string;

// Commander only inherits exitOverride into subcommands made with .command(); ours are added whole.
function throwInsteadOfExit(command: Command): Command {
  command.exitOverride();
  for (const sub of command.commands) throwInsteadOfExit(sub);
  return command;
}

async function run(...args: string[]): Promise<string> {
  let out = "";
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await throwInsteadOfExit(controllerCli()).parseAsync([
      "node",
      "pwdr-controller",
      ...args,
      "--data-dir",
      dataDir,
    ]);
  } finally {
    write.mockRestore();
  }
  return out;
}

beforeAll(async () => {
  dataDir = await makeTempDir("pwdr-cli-api-token-");
});

describe("pwdr-controller api-token (catalog directly)", () => {
  it("creates a token printed once, lists it without secrets, revokes it, and audits both", async () => {
    const token = (await run("api-token", "create", "--name", "first-admin", "--role", "admin")).trim();
    expect(token).toMatch(/^pwdrapi1_[\w-]{43}$/);
    const [listed] = JSON.parse(await run("api-token", "list", "--json")) as { id: string; name: string }[];
    expect(listed).toMatchObject({ name: "first-admin", role: "admin", revokedAt: null });
    expect(JSON.stringify(listed)).not.toMatch(/token"|tokenHash/);
    expect(await run("api-token", "list")).toMatch(/^NAME +ROLE +STATE.*\nfirst-admin +admin +active /);

    await run("api-token", "revoke", listed?.id ?? "");
    expect(await run("api-token", "list")).toMatch(/first-admin +admin +revoked/);

    const catalog = await openCatalog({ url: `file:${dataDir}/catalog.db` });
    const events = await catalog.db.auditEvent.findMany({ orderBy: { id: "asc" } });
    await catalog.close();
    expect(events.map((e) => [e.actor, e.action, e.target])).toEqual([
      ["cli", "api-token.create", `api-token:${listed?.id}`],
      ["cli", "api-token.revoke", `api-token:${listed?.id}`],
    ]);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it("refuses a taken name, a bad name and an unknown role with a message that says what to do", async () => {
    await expect(run("api-token", "create", "--name", "first-admin", "--role", "viewer")).rejects.toThrow(
      /already exists; pick another name/,
    );
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await expect(run("api-token", "create", "--name", "Bad Name", "--role", "viewer")).rejects.toThrow(
        /a-z 0-9/,
      );
      await expect(run("api-token", "create", "--name", "x", "--role", "root")).rejects.toThrow(
        /viewer, operator, admin/,
      );
    } finally {
      stderr.mockRestore();
    }
    await expect(run("api-token", "revoke", "nope")).rejects.toThrow(/no API token with id "nope"/);
  });
});
