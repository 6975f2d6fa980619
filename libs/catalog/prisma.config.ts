import path from "node:path";
import { defineConfig } from "prisma/config";

// DB_PROVIDER=sqlite (default) | postgres selects the schema entry point, the
// migrations folder and the default URL; DATABASE_URL overrides the URL.
const provider = process.env.DB_PROVIDER === "postgres" ? "postgres" : "sqlite";

// Offline the native schema engine cannot be downloaded; `prisma generate`,
// `validate` and `format` only check that it exists, so point them at a stub
// unless a real engine was provided. Migrations run through scripts/migrate.ts.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(import.meta.dirname, "scripts/no-schema-engine.sh");

export default defineConfig({
  schema: `prisma/${provider}`,
  migrations: { path: `prisma/${provider}/migrations` },
  datasource: {
    url:
      process.env.DATABASE_URL ??
      (provider === "sqlite" ? "file:./dev.db" : "postgresql://postgres@127.0.0.1:5432/pwdr"),
  },
});
