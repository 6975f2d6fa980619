import { invalidArgument } from "./failure.js";

/** One line of a Redis 7 multi-part AOF manifest: "file appendonly.aof.1.base.rdb seq 1 type b". */
export interface AofManifestEntry {
  file: string;
  seq: number;
  /** b = base, i = incremental, h = history (left over, about to be deleted; not needed to load). */
  type: "b" | "i" | "h";
}

/**
 * Parses a manifest. File names become paths we read and write, so anything
 * but a plain name in the directory is refused.
 */
export function parseAofManifest(text: string): AofManifestEntry[] {
  const entries: AofManifestEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    entries.push(parseLine(line));
  }
  return entries;
}

function parseLine(line: string): AofManifestEntry {
  const fields = new Map<string, string>();
  const tokens = tokenize(line);
  for (let i = 0; i + 1 < tokens.length; i += 2) fields.set(tokens[i] as string, tokens[i + 1] as string);
  const file = fields.get("file");
  const seq = Number(fields.get("seq"));
  const type = fields.get("type");
  if (!file || !Number.isInteger(seq) || (type !== "b" && type !== "i" && type !== "h")) {
    throw invalidArgument(`unreadable AOF manifest line ${JSON.stringify(line)}`);
  }
  if (file.includes("/") || file === "." || file === ".." || file.includes("\0")) {
    throw invalidArgument(`AOF manifest names ${JSON.stringify(file)}, which is not a plain file name`);
  }
  return { file, seq, type };
}

/** Redis quotes names with unusual characters; we accept plain and simply double-quoted tokens. */
function tokenize(line: string): string[] {
  const tokens: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    tokens.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : (match[2] as string));
  }
  return tokens;
}

/** The files Redis needs to load the dataset: the base and the incremental files, in manifest order. */
export function filesToLoad(entries: readonly AofManifestEntry[]): string[] {
  return entries.filter((e) => e.type !== "h").map((e) => e.file);
}

/**
 * A manifest whose only file is a base in RDB format. Redis 7 loads such a
 * base like any RDB and opens a new incremental file on start.
 */
export function baseOnlyManifest(baseFile: string): string {
  return `file ${baseFile} seq 1 type b\n`;
}
