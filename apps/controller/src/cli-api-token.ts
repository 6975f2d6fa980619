import { API_TOKEN_ROLES, type ApiTokenRole } from "@pwdr/catalog";
import { Command, InvalidArgumentError, Option } from "commander";
import {
  API_TOKEN_NAME_PATTERN,
  type ApiTokenSummary,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "./api-tokens.js";
import { recordAuditEvent } from "./audit-log.js";
import { withCatalog, withCatalogOptions } from "./cli-options.js";
import { parseDuration } from "./duration.js";
import { renderTable } from "./table.js";

// These commands open the catalog directly: the first admin token has to come
// from somewhere, and a lost or leaked admin token must be revocable without one.

function tokenName(value: string): string {
  if (!new RegExp(API_TOKEN_NAME_PATTERN).test(value)) {
    throw new InvalidArgumentError("use 1-63 of a-z 0-9 . _ - starting with a letter or digit");
  }
  return value;
}

function tokenRows(tokens: ApiTokenSummary[]): string[][] {
  return tokens.map((t) => [
    t.name,
    t.role,
    t.revokedAt ? "revoked" : t.expiresAt && t.expiresAt <= new Date() ? "expired" : "active",
    t.expiresAt?.toISOString() ?? "never",
    t.lastUsedAt?.toISOString() ?? "never",
    t.id,
  ]);
}

export function renderApiTokenTable(tokens: ApiTokenSummary[]): string {
  if (tokens.length === 0) return "no API tokens yet; create one with `pwdr-controller api-token create`\n";
  return renderTable(["NAME", "ROLE", "STATE", "EXPIRES", "LAST USED", "ID"], tokenRows(tokens));
}

function createCommand(): Command {
  return withCatalogOptions(new Command("create"))
    .description("create an API token (printed once, stored only as a SHA-256 hash)")
    .requiredOption("--name <name>", "unique name, shown in the audit log", tokenName)
    .addOption(
      new Option("--role <role>", "what the token may do").choices(API_TOKEN_ROLES).makeOptionMandatory(),
    )
    .option("--ttl <duration>", "how long the token stays valid (default: until revoked)")
    .option("--json", "print JSON")
    .action(async (opts) => {
      const ttlMs = opts.ttl ? parseDuration(opts.ttl, "--ttl") : undefined;
      const created = await withCatalog(opts, async (db) => {
        const token = await createApiToken(db, {
          name: opts.name,
          role: opts.role as ApiTokenRole,
          ...(ttlMs === undefined ? {} : { ttlMs }),
        });
        await recordAuditEvent(db, {
          actor: "cli",
          action: "api-token.create",
          target: `api-token:${token.id}`,
          details: { outcome: "success", name: token.name, role: token.role },
        });
        return token;
      });
      process.stdout.write(opts.json ? `${JSON.stringify(created)}\n` : `${created.token}\n`);
    });
}

function listCommand(): Command {
  return withCatalogOptions(new Command("list"))
    .description("list API tokens (never their secrets)")
    .option("--json", "print JSON")
    .action(async (opts) => {
      const tokens = await withCatalog(opts, listApiTokens);
      process.stdout.write(opts.json ? `${JSON.stringify(tokens)}\n` : renderApiTokenTable(tokens));
    });
}

function revokeCommand(): Command {
  return withCatalogOptions(new Command("revoke"))
    .description("revoke an API token by id; it is refused from the next request on")
    .argument("<id>", "token id, as listed")
    .action(async (id: string, opts) => {
      await withCatalog(opts, async (db) => {
        const revoked = await revokeApiToken(db, id);
        if (!revoked) throw new Error(`no API token with id "${id}"; see \`pwdr-controller api-token list\``);
        await recordAuditEvent(db, {
          actor: "cli",
          action: "api-token.revoke",
          target: `api-token:${id}`,
          details: { outcome: "success" },
        });
      });
    });
}

export function apiTokenCommand(): Command {
  return new Command("api-token")
    .description("manage REST API tokens directly in the catalog (bootstrap and break-glass)")
    .addCommand(createCommand())
    .addCommand(listCommand())
    .addCommand(revokeCommand());
}
