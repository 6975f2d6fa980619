#!/usr/bin/env bash
# Quick start: installs what is needed, builds, then runs a controller with
# its embedded SQLite catalog and one agent enrolled to it, on this machine,
# on loopback, and backs up the project's docs into a local encrypted
# repository. State lives in .pwdr-quickstart/; Ctrl-C stops both.
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
$agent run --data-dir "$state/agent" 2>"$state/agent.log" &
agent_pid=$!

for _ in $(seq 100); do $controller hosts --data-dir "$state/controller" | grep -q online && break; sleep 0.2; done
$controller hosts --data-dir "$state/controller"

# A first real backup into a local encrypted repository: the project's docs.
export PWDR_REPOSITORY=$state/repo PWDR_PASSWORD_FILE=$state/repo.pass
if [[ ! -f $state/repo/config ]]; then
  (umask 077 && head -c 24 /dev/urandom | base64 >"$PWDR_PASSWORD_FILE")
  $agent init
fi
$agent backup "$root/docs" --tag quickstart
$agent snapshots
cat <<INFO

PWDR is running: a controller (SQLite catalog) and one agent connected over mutual TLS.
  controller log   $state/controller.log
  agent log        $state/agent.log
  catalog          $state/controller/catalog.db
  controller CA    $state/controller/pki/ca.crt
  repository       $state/repo (password in $state/repo.pass)
  try              PWDR_REPOSITORY=$state/repo PWDR_PASSWORD_FILE=$state/repo.pass node apps/agent/dist/main.js ls latest -R
  list hosts       node apps/controller/dist/main.js hosts --data-dir $state/controller
  REST API         https://127.0.0.1:$api_port/api/v1 (token: node apps/controller/dist/main.js api-token create --data-dir $state/controller --role admin --name me)
Press Ctrl-C to stop both.
INFO
wait
