import { readFileSync } from "node:fs";
import { API_TOKEN_ROLES } from "@pwdr/catalog";
import { Command, Option } from "commander";
import type { Static } from "typebox";
import type { ApiTokenView, CreatedApiTokenView } from "../api/schemas/api-token.js";
import type { AuditEventView } from "../api/schemas/audit-event.js";
import type { CreatedEnrollmentToken } from "../api/schemas/enrollment-token.js";
import type { HostDetail, HostRevocationView, HostSummary } from "../api/schemas/host.js";
import type { PolicyView } from "../api/schemas/policy.js";
import { label } from "../cli-options.js";
import { renderTable } from "../table.js";
import { clientFrom, DEFAULT_CA, print } from "./cli-context.js";
import { drCommand } from "./cli-dr.js";
import { jobsCommand, recoveryPointsCommand, restoreCommand } from "./cli-jobs.js";

type Host = Static<typeof HostSummary>;
type ApiToken = Static<typeof ApiTokenView>;
type AuditEvent = Static<typeof AuditEventView>;
type Policy = Static<typeof PolicyView>;

function hostsCommand(): Command {
  return new Command("hosts")
    .description("list hosts")
    .option("--state <state>", "only hosts in this state (online, offline, decommissioned)")
    .action(async (opts: { state?: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const query = opts.state ? `?state=${encodeURIComponent(opts.state)}` : "";
      const { hosts } = await client.get<{ hosts: Host[] }>(`/hosts${query}`);
      print(json, hosts, () =>
        hosts.length === 0
          ? "no hosts match; enroll one with `api enrollment-token create` and `pwdr-agent enroll`\n"
          : renderTable(
              ["NAME", "STATE", "REVOKED", "SITE", "AGENT", "LAST SEEN", "ID"],
              hosts.map((h) => [
                h.name,
                h.state,
                h.revokedAt ?? "-",
                h.site ?? "-",
                h.agentVersion ?? "-",
                h.lastSeenAt ?? "never",
                h.id,
              ]),
            ),
      );
    });
}

function hostRevokeCommand(): Command {
  return new Command("revoke")
    .description("revoke the host's certificates and end its session at once (operator)")
    .argument("<id>", "host id")
    .action(async (id: string, _opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      const outcome = await client.post<Static<typeof HostRevocationView>>(
        `/hosts/${encodeURIComponent(id)}/revoke`,
        {},
      );
      print(json, outcome, () => renderRevocation(outcome));
    });
}

function renderRevocation(outcome: Static<typeof HostRevocationView>): string {
  const { host } = outcome;
  const session = outcome.sessionClosed ? "its session was ended" : "it had no open session here";
  return (
    `revoked ${host.name} (${host.id}): ${outcome.revokedCertificates} certificate(s) revoked now, ${session}; ` +
    "the agent must enroll again with a new token\n"
  );
}

function hostCommand(): Command {
  return new Command("host")
    .description("show one host with the facts its agent reported; `host revoke <id>` cuts it off")
    .argument("<id>", "host id")
    .action(async (id: string, _opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      const host = await client.get<Static<typeof HostDetail>>(`/hosts/${encodeURIComponent(id)}`);
      print(json, host, () =>
        renderTable(
          ["FIELD", "VALUE"],
          Object.entries(host).map(([field, value]) => [
            field,
            typeof value === "string" ? value : JSON.stringify(value),
          ]),
        ),
      );
    })
    .addCommand(hostRevokeCommand());
}

function tokenTable(tokens: ApiToken[]): string {
  return renderTable(
    ["NAME", "ROLE", "REVOKED", "EXPIRES", "LAST USED", "ID"],
    tokens.map((t) => [
      t.name,
      t.role,
      t.revokedAt ?? "-",
      t.expiresAt ?? "never",
      t.lastUsedAt ?? "never",
      t.id,
    ]),
  );
}

function tokensCommand(): Command {
  const tokens = new Command("tokens").description("manage API tokens (admin)");
  tokens
    .command("list")
    .description("list API tokens (never their secrets)")
    .action(async (_opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      const { tokens: rows } = await client.get<{ tokens: ApiToken[] }>("/api-tokens");
      print(json, rows, () => tokenTable(rows));
    });
  tokens
    .command("create")
    .description("create an API token; it is printed once")
    .requiredOption("--name <name>", "unique name, shown in the audit log")
    .addOption(
      new Option("--role <role>", "what the token may do").choices(API_TOKEN_ROLES).makeOptionMandatory(),
    )
    .option("--ttl <duration>", "how long it stays valid, e.g. 30d (default: until revoked)")
    .action(async (opts: { name: string; role: string; ttl?: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const created = await client.post<Static<typeof CreatedApiTokenView>>("/api-tokens", opts);
      print(json, created, () => `${created.token}\n`);
    });
  tokens
    .command("revoke")
    .description("revoke an API token; it is refused from the next request on")
    .argument("<id>", "token id")
    .action(async (id: string, _opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      const revoked = await client.delete<ApiToken>(`/api-tokens/${encodeURIComponent(id)}`);
      print(json, revoked, () => `revoked ${revoked.name} (${revoked.id})\n`);
    });
  return tokens;
}

function enrollmentTokenCommand(): Command {
  const command = new Command("enrollment-token").description(
    "one-time tokens for `pwdr-agent enroll` (operator)",
  );
  command
    .command("create")
    .description("create a one-time enrollment token; it is printed once")
    .option("--ttl <duration>", "how long the token stays valid", "24h")
    .option("--label <key=value>", "label for the enrolled host (repeatable)", label, {})
    .action(async (opts: { ttl: string; label: Record<string, string> }, cmd: Command) => {
      const { client, json } = clientFrom(cmd);
      const body = { ttl: opts.ttl, labels: opts.label };
      const created = await client.post<Static<typeof CreatedEnrollmentToken>>("/enrollment-tokens", body);
      print(json, created, () => `${created.token}\n`);
    });
  return command;
}

function readJsonFile(file: string): object {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as object;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}; expected one JSON object`);
  }
}

function policiesCommand(): Command {
  const policies = new Command("policies").description("backup policies (viewer reads, admin changes)");
  policies
    .command("list")
    .description("list policies")
    .action(async (_opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      const { policies: rows } = await client.get<{ policies: Policy[] }>("/policies");
      print(json, rows, () =>
        renderTable(
          ["NAME", "SCHEDULE", "SELECTOR", "ENABLED", "ID"],
          rows.map((p) => [
            p.name,
            p.schedule ?? "(inherit)",
            JSON.stringify(p.selector),
            String(p.enabled),
            p.id,
          ]),
        ),
      );
    });
  policies
    .command("create")
    .description("create a policy from a JSON file (the API's PolicyInput, see openapi.json)")
    .requiredOption("--file <file>", 'JSON document, e.g. {"name":"fleet","schedule":"15 2 * * *"}')
    .action(async (opts: { file: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const body = readJsonFile(opts.file);
      const created = await client.post<Policy>("/policies", body);
      print(json, created, () => `created policy ${created.name} (${created.id})\n`);
    });
  policies
    .command("show")
    .description("show a policy as stored (null fields inherit from the parent)")
    .argument("<id>", "policy id")
    .action(async (id: string, _opts: object, command: Command) => {
      const { client } = clientFrom(command);
      const policy = await client.get<Policy>(`/policies/${encodeURIComponent(id)}`);
      process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
    });
  policies
    .command("update")
    .description("change a policy from a JSON file: fields given replace, null clears (inherit), others stay")
    .argument("<id>", "policy id")
    .requiredOption("--file <file>", 'JSON document, e.g. {"schedule":"30 3 * * *","retention":null}')
    .action(async (id: string, opts: { file: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const updated = await client.patch<Policy>(
        `/policies/${encodeURIComponent(id)}`,
        readJsonFile(opts.file),
      );
      print(json, updated, () => `updated policy ${updated.name} (${updated.id})\n`);
    });
  policies
    .command("delete")
    .description("delete a policy no child policy or unfinished job refers to")
    .argument("<id>", "policy id")
    .action(async (id: string, _opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      await client.delete(`/policies/${encodeURIComponent(id)}`);
      print(json, { deleted: id }, () => `deleted policy ${id}\n`);
    });
  policies
    .command("effective")
    .description("the policy that governs a host, field by field with the policy each came from")
    .argument("<host>", "host id")
    .action(async (host: string, _opts: object, command: Command) => {
      const { client } = clientFrom(command);
      const effective = await client.get<unknown>(`/hosts/${encodeURIComponent(host)}/policy`);
      process.stdout.write(`${JSON.stringify(effective, null, 2)}\n`);
    });
  return policies;
}

function auditCommand(): Command {
  return new Command("audit")
    .description("show the audit log, newest first (admin)")
    .option("--limit <n>", "how many events", "50")
    .option("--action <action>", "only this action, e.g. api-token.revoke")
    .action(async (opts: { limit: string; action?: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const query = new URLSearchParams({
        limit: opts.limit,
        ...(opts.action ? { action: opts.action } : {}),
      });
      const { events } = await client.get<{ events: AuditEvent[] }>(`/audit-events?${query}`);
      print(json, events, () =>
        renderTable(
          ["TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME"],
          events.map((e) => [e.at, e.actor, e.action, e.target ?? "-", String(e.details?.outcome ?? "-")]),
        ),
      );
    });
}

/** The operator CLI: every command goes through the REST API with a bearer token, so roles and audit apply. */
export function apiCommand(): Command {
  return new Command("api")
    .description("operate the fleet through the controller's REST API")
    .addOption(
      new Option("--url <url>", "API base URL").env("PWDR_API_URL").default("https://127.0.0.1:7445"),
    )
    .addOption(new Option("--token <token>", "API token (prefer the env variable)").env("PWDR_API_TOKEN"))
    .addOption(
      new Option("--ca <file>", `controller CA certificate (default: ${DEFAULT_CA} when present)`).env(
        "PWDR_API_CA",
      ),
    )
    .option("--json", "print JSON instead of tables")
    .addCommand(hostsCommand())
    .addCommand(hostCommand())
    .addCommand(tokensCommand())
    .addCommand(enrollmentTokenCommand())
    .addCommand(policiesCommand())
    .addCommand(jobsCommand())
    .addCommand(recoveryPointsCommand())
    .addCommand(restoreCommand())
    .addCommand(drCommand())
    .addCommand(auditCommand());
}
