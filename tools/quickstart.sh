#!/usr/bin/env bash
# Quick start: installs what is needed, builds, then runs a controller with
# its embedded SQLite catalog and one agent enrolled to it, on this machine,
# on loopback, gives the fleet a policy and backs up the project's docs
# through the REST API into the host's repository on the controller.
# State lives in .pwdr-quickstart/; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash tools/ensure-deps.sh
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
npx nx run-many -t build --projects=controller,agent --outputStyle=static >/dev/null
state=$root/.pwdr-quickstart
mkdir -p "$state"
controller="node $root/apps/controller/dist/main.js"
agent="node $root/apps/agent/dist/main.js"
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
session_port=$(free_port)
enroll_port=$(free_port)
api_port=$(free_port)
storage_port=$(free_port)

$controller serve --data-dir "$state/controller" --session-port "$session_port" --enroll-port "$enroll_port" \
  --api-port "$api_port" --storage-port "$storage_port" 2>"$state/controller.log" &
controller_pid=$!
agent_pid=
cleanup() {
  [[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null || true
  kill "$controller_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

for _ in $(seq 100); do grep -q '"controller started"' "$state/controller.log" && break; sleep 0.2; done
grep -q '"controller started"' "$state/controller.log" || { cat "$state/controller.log" >&2; exit 1; }

if [[ ! -f $state/agent/identity/identity.json ]]; then
  token=$($controller token create --data-dir "$state/controller" --ttl 10m --label site=quickstart)
  $agent enroll --controller "127.0.0.1:$enroll_port" --token "$token" --data-dir "$state/agent"
else
  # Re-runs reuse the identity; only the port moved.
  node -e 'const f=process.argv[1],j=JSON.parse(require("fs").readFileSync(f));j.sessionAddress=process.argv[2];require("fs").writeFileSync(f,JSON.stringify(j,null,2))' \
    "$state/agent/identity/identity.json" "127.0.0.1:$session_port"
fi
# The agent's config: what to back up (here the project's docs) into its
# repository on the controller; schedules come from the controller's policy.
cat >"$state/agent/agent.yaml" <<YAML
host: quickstart
stateDir: $state/agent/state
controller: { dataDir: $state/agent }
repository: { controller: true, dataDir: $state/agent }
sources:
  - { kind: files, name: docs, paths: [$root/docs] }
YAML
$agent run --data-dir "$state/agent" -c "$state/agent/agent.yaml" 2>"$state/agent.log" &
agent_pid=$!

for _ in $(seq 100); do $controller hosts --data-dir "$state/controller" | grep -q online && break; sleep 0.2; done
$controller hosts --data-dir "$state/controller"

# An admin API token for this run, a fleet policy (hourly backups, keep 24),
# then a first backup started through the REST API, followed to the end.
token=$($controller api-token create --data-dir "$state/controller" --role admin --name "quickstart-$(date +%s)")
ca=$state/controller/pki/ca.crt
api() { $controller api --url "https://127.0.0.1:$api_port" --ca "$ca" --token "$token" "$@"; }
if ! api --json policies list | grep -q '"name":"quickstart"'; then
  echo '{"name":"quickstart","selector":{},"schedule":"0 * * * *","retention":{"keepLast":24}}' >"$state/policy.json"
  api policies create --file "$state/policy.json"
fi
host_id=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).hostId)' "$state/agent/identity/identity.json")
api jobs start "$host_id" backup --wait
api recovery-points list --host "$host_id"
cat <<INFO

PWDR is running: a controller (SQLite catalog) and one agent connected over mutual TLS,
its backups stored on the controller under a fleet policy.
  controller log   $state/controller.log
  agent log        $state/agent.log
  catalog          $state/controller/catalog.db
  controller CA    $ca
  host repository  $state/controller/repos/$host_id
  jobs             node apps/controller/dist/main.js api --url https://127.0.0.1:$api_port --ca $ca --token $token jobs list
  policy           ... policies effective $host_id
  REST API         https://127.0.0.1:$api_port/api/v1 (admin token above; OpenAPI at /api/v1/openapi.json)
  dashboard        https://127.0.0.1:$api_port/ (sign in with the admin token above; the browser must trust $ca)
Press Ctrl-C to stop both.
INFO
wait
