// Version checks of a restore: a dump or RDB file loads into the same or a
// newer server, never an older one.

function parts(version: string): number[] {
  return (version.match(/\d+/g) ?? []).map(Number);
}

/** Compares dotted versions numerically ("7.0.15" < "7.2.4"); missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** PostgreSQL's major is its first number since 10 ("16.4" -> 16), the first two before ("9.6.24" -> 9.6). */
export function postgresMajor(version: string): string {
  const [first = 0, second = 0] = parts(version);
  return first >= 10 ? String(first) : `${first}.${second}`;
}

/** Why `target` cannot take what `backedUp` wrote, or undefined when it can. */
export function versionProblem(kind: string, backedUp: string, target: string): string | undefined {
  if (kind === "postgres") {
    const from = postgresMajor(backedUp);
    const to = postgresMajor(target);
    return compareVersions(to, from) < 0
      ? `PostgreSQL ${target} on the replacement is older than the backed-up major ${from} (${backedUp})`
      : undefined;
  }
  if (kind === "redis") {
    return compareVersions(target, backedUp) < 0
      ? `Redis ${target} on the replacement is older than the backed-up ${backedUp}; it cannot load a newer RDB/AOF`
      : undefined;
  }
  return undefined;
}
