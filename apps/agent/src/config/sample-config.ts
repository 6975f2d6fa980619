/** What `pwdr-agent config init` writes: a documented config for a PiWardrive host, valid as it stands. */
export function sampleConfig(host: string): string {
  return `# PWDR agent configuration (reference: docs/agent-config.md).
# Validate with: pwdr-agent config check -c <this file>

host: ${host}
stateDir: /var/lib/pwdr-agent      # journal of runs, job locks, drill sandboxes
logLevel: info                     # debug | info | warn | error (JSON lines on stderr)

# An enrolled agent reports to its controller and runs its jobs and policy
# (the schedules below then apply only until the first policy arrives):
# controller: { dataDir: /var/lib/pwdr-agent }

# On an enrolled agent the controller can store the backups instead (no path, no password):
# repository: { controller: true, dataDir: /var/lib/pwdr-agent }
repository:
  path: /srv/backup/pwdr           # a local disk or a mounted NAS; create it with: pwdr-agent init -r <path>
  passwordFile: /etc/pwdr/repository.password   # or passwordEnv: NAME_OF_VARIABLE
  # bandwidthLimit: 5M             # bytes per second written to the repository

sources:
  - kind: postgres
    name: db
    connection: { host: 127.0.0.1, port: 5432, user: postgres, passwordFile: /etc/pwdr/postgres.password }
    databases: [piwardrive]
  - kind: redis
    name: cache
    connection: { host: 127.0.0.1, port: 6379 }
    dataDir: /var/lib/redis
    service: { type: systemd, units: [redis-server] }
  - kind: config
    name: config
    paths: [/etc/piwardrive]
    optionalPaths: [/etc/nginx/sites-available/piwardrive, /opt/piwardrive/.env, /opt/piwardrive/docker-compose.yml]
  - kind: files
    name: data
    paths: [/data]
    optionalPaths: [/var/log/piwardrive]
    exclude: ["*.tmp"]

services: { type: systemd, units: [piwardrive] }
health:
  url: http://127.0.0.1:8080/api/v1/system/health

schedules:                         # cron: minute hour day-of-month month day-of-week
  backup: "15 2 * * *"             # every night at 02:15
  check: "0 4 * * 0"               # Sundays: structure plus a share of the data (verify.readDataSubset)
  retention: "45 3 * * *"          # forget by the policy below, then prune
  drill: "30 5 * * 6"              # Saturdays: restore the latest point into a sandbox and check it
  catchUp: once                    # after downtime run each missed job once at start (or: skip)

retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12, prune: true }
verify: { readDataSubset: 5% }
drills: { workDir: /var/tmp/pwdr-drills }   # sandbox PostgreSQL, Redis and files; removed after each drill
retry: { attempts: 5, initialDelayMs: 30000, maxDelayMs: 600000 }   # while the repository is unreachable
# metrics: { port: 9464 }          # Prometheus on 127.0.0.1:9464/metrics
shutdownGraceMs: 60000             # SIGTERM waits this long for a running job
`;
}
