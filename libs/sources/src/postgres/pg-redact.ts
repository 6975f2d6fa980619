import type { PgConnection } from "./pg-connection.js";

const URL_PASSWORD = /(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi;
const KEYWORD_PASSWORD = /(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi;

/**
 * Removes the connection's password, and any password in a connection string
 * or URL, from text bound for an error message or a log.
 */
export function redact(text: string, conn?: Pick<PgConnection, "password">): string {
  let out = text.replace(URL_PASSWORD, "$1***@").replace(KEYWORD_PASSWORD, "$1***");
  const password = conn?.password;
  if (password) out = out.split(password).join("***");
  return out;
}
