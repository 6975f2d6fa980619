import { Type } from "typebox";

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const Timestamp = Type.String({ format: "date-time" });
export const OptionalTimestamp = Type.Union([Timestamp, Type.Null()]);

/** Labels as stored: shown as they are, whatever older clients wrote. */
export const Labels = Type.Record(Type.String(), Type.String(), {
  description: 'Flat object of strings, e.g. {"site": "lab"}',
});

/** Labels a request sets: plain keys, short values, a bounded number. */
export const LabelsInput = Type.Record(
  Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$" }),
  Type.String({ maxLength: 253 }),
  {
    // Without this, a key that misses the pattern would pass with any value.
    additionalProperties: false,
    maxProperties: 32,
    description: 'Flat object of strings, e.g. {"site": "lab"}',
  },
);

/** "90s", "15m", "24h", "7d": the same durations the CLI takes. */
export const Duration = Type.String({ pattern: "^[0-9]{1,6}[smhd]$", examples: ["24h"] });

export function isoOrNull(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}
