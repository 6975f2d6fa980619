#!/usr/bin/env bash
# The test command (README): lint, contract checks, build, typecheck and every
# project's tests against real PostgreSQL/Redis servers, then one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-deps.sh || exit 1
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_SKIP_NX_CACHE=${NX_SKIP_NX_CACHE:-true}
projects=(logging pki protocol catalog test-harness repo storage sources host controller agent e2e)
status=0
step() { echo "== $*"; "$@" || status=1; }
step npx biome ci --reporter=summary .
step bash tools/check-proto.sh
step npx nx run-many -t build typecheck --outputStyle=static
rm -rf test-artifacts/vitest
npx nx run-many -t test --outputStyle=static --parallel=1 || status=1
node tools/test-summary.mjs test-artifacts/vitest "${projects[@]}" || status=1
exit $status
