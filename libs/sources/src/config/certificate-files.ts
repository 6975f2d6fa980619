import { readFile } from "node:fs/promises";
import { extname } from "node:path";

const CERT_EXTENSIONS = new Set([".pem", ".crt", ".cer"]);
const CERT_MARKER = "-----BEGIN CERTIFICATE-----";
const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
/** Larger files are not certificates (a full CA bundle is ~250 KiB); don't read them twice. */
const MAX_SCAN_BYTES = 1024 * 1024;

/**
 * The CERTIFICATE blocks of a file, or none. Only those blocks are ever
 * handed to the parser: a .pem holding a private key (or a key next to its
 * certificate) yields no key text to parse, log or put into an error.
 */
export async function certificateBlocks(path: string, size: number): Promise<string[]> {
  if (size > MAX_SCAN_BYTES) return [];
  const text = await readFile(path, "latin1");
  if (!CERT_EXTENSIONS.has(extname(path).toLowerCase()) && !text.includes(CERT_MARKER)) return [];
  return text.match(CERT_BLOCK) ?? [];
}
