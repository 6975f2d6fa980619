import { readFile } from "node:fs/promises";
import { RepoError } from "@pwdr/repo";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { type HostDefinition, hostDefinitionSchema } from "./host-definition.js";

/** One problem in a definition file, located for the operator. */
export interface DefinitionProblem {
  /** Dotted key path, e.g. "sources.1.connection.port". */
  key: string;
  line: number;
  column: number;
  message: string;
}

/** A definition that does not parse or validate; names every problem with its key, line and column. */
export class DefinitionError extends RepoError {
  constructor(
    readonly file: string,
    readonly problems: DefinitionProblem[],
  ) {
    super("invalid_argument", `${file} is not a valid definition:\n${problems.map(describe).join("\n")}`);
  }
}

function describe(p: DefinitionProblem): string {
  return `  ${p.line}:${p.column} ${p.key || "(top level)"}: ${p.message}`;
}

export async function loadHostDefinition(file: string): Promise<HostDefinition> {
  return loadYamlDefinition(file, hostDefinitionSchema, "the definition file");
}

/** Reads and validates a YAML file; `what` names it in the error when it cannot be read. */
export async function loadYamlDefinition<S extends z.ZodType>(
  file: string,
  schema: S,
  what: string,
  hint = "",
): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
    const more = code === "ENOENT" ? hint : "";
    throw new RepoError("invalid_argument", `cannot read ${what} ${file} (${code})${more}`, { cause: err });
  }
  return parseYamlDefinition(text, file, schema);
}

/** Parses YAML and validates it against `schema`, reporting problems at their place in the text. */
export function parseYamlDefinition<S extends z.ZodType>(text: string, file: string, schema: S): z.infer<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new DefinitionError(
      file,
      doc.errors.map((e) => {
        const at = lineCounter.linePos(e.pos[0]);
        return { key: "", line: at.line, column: at.col, message: e.message.split("\n")[0] ?? e.message };
      }),
    );
  }
  const result = schema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  throw new DefinitionError(
    file,
    result.error.issues.map((issue) => {
      const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
      const offset = offsetOf(
        doc.contents,
        path,
        issue.code === "unrecognized_keys" ? issue.keys : undefined,
      );
      const at = lineCounter.linePos(offset);
      return { key: path.join("."), line: at.line, column: at.col, message: issue.message };
    }),
  );
}

/**
 * The text offset of the deepest node on `path` that exists (a missing key
 * is reported at its parent); for unknown keys, the first such key.
 */
function offsetOf(root: unknown, path: (string | number)[], unknownKeys?: string[]): number {
  let node = root as Node | null;
  let offset = node?.range?.[0] ?? 0;
  const steps = [...path, ...(unknownKeys?.slice(0, 1) ?? [])];
  for (const [i, part] of steps.entries()) {
    const next = childOf(node, part);
    if (!next) break;
    const atKey = unknownKeys !== undefined && i === steps.length - 1;
    offset = (atKey ? next.keyOffset : next.node?.range?.[0]) ?? next.keyOffset ?? offset;
    node = next.node;
  }
  return offset;
}

function childOf(
  node: Node | null,
  part: string | number,
): { node: Node | null; keyOffset?: number } | undefined {
  if (isSeq(node) && typeof part === "number") {
    const item = node.items[part] as Node | undefined;
    return item ? { node: item } : undefined;
  }
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
    if (!pair) return undefined;
    const keyOffset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    return { node: (pair.value as Node | null) ?? null, ...(keyOffset === undefined ? {} : { keyOffset }) };
  }
  return undefined;
}
