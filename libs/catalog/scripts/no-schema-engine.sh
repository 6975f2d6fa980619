#!/bin/sh
# Stand-in for Prisma's native schema-engine binary, which cannot be downloaded
# offline. `prisma generate|validate|format` only check that the file exists.
# Commands that really need the engine (prisma migrate/db) fail with this message.
msg='The native Prisma schema engine is not available offline. Use npm run migrate:dev|migrate:deploy|migrate:status|migrate:check (scripts/migrate.ts, wasm schema engine).'
# The CLI skips the first stderr line and parses the rest as JSON log lines.
printf 'schema-engine stub\n{"level":"ERROR","target":"schema_engine::logger","fields":{"error_code":"OFFLINE","message":"%s"}}' "$msg" >&2
exit 1
