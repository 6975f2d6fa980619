#!/usr/bin/env bash
# Agent-only install on a Debian host (run as root from a checkout of PWDR):
# builds the agent, installs it under /opt/pwdr, creates the "pwdr" user,
# /etc/pwdr with a sample config, and the systemd unit (not yet started).
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "run as root: it creates a user, /etc/pwdr and a systemd unit" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/pwdr

bash "$src/tools/ensure-deps.sh"
(cd "$src" && NX_DAEMON=false npx nx run-many -t build --projects=agent --outputStyle=static >/dev/null)
if [[ $src != "$prefix" ]]; then
  mkdir -p "$prefix"
  tar -C "$src" --exclude=.git --exclude=.pwdr-quickstart --exclude=test-artifacts -cf - . | tar -C "$prefix" -xf -
fi
ln -sf "$prefix/packaging/pwdr-agent" /usr/local/bin/pwdr-agent

id pwdr >/dev/null 2>&1 || useradd --system --home-dir /var/lib/pwdr-agent --shell /usr/sbin/nologin pwdr
getent group redis >/dev/null && usermod -aG redis pwdr
install -d -m 0750 -o root -g pwdr /etc/pwdr
install -d -m 0700 -o pwdr -g pwdr /var/lib/pwdr-agent
install -d -m 0711 -o pwdr -g pwdr /var/tmp/pwdr-drills
[[ -f /etc/pwdr/agent.yaml ]] || { pwdr-agent config init --output /etc/pwdr/agent.yaml; chgrp pwdr /etc/pwdr/agent.yaml; }
install -m 0644 "$src/packaging/pwdr-agent.service" /etc/systemd/system/pwdr-agent.service
command -v systemctl >/dev/null && systemctl daemon-reload || true
echo "installed. Next: edit /etc/pwdr/agent.yaml, put the repository password in /etc/pwdr/repository.password (mode 0640, group pwdr),"
echo "  pwdr-agent init -r <repository> --password-file /etc/pwdr/repository.password"
echo "  pwdr-agent config check && pwdr-agent now backup && systemctl enable --now pwdr-agent"
