// How numbers and times read on screen.

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "3 min ago", "in 2 d"; "never" for null. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return "never";
  const delta = now - Date.parse(iso);
  return delta >= 0 ? `${duration(delta)} ago` : `in ${duration(-delta)}`;
}

export function time(iso: string | null): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function percent(done: number, total: number): number | undefined {
  return total > 0 ? Math.min(100, Math.round((done / total) * 100)) : undefined;
}
