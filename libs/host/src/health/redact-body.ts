/**
 * Health pages sometimes echo their settings: values of keys that look like
 * credentials (JSON, key=value, YAML) and passwords in URLs are replaced, so
 * an excerpt can go into job results and logs.
 */
const SECRET_KEY = String.raw`[\w.-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|credential|auth)[\w.-]*`;
const JSON_VALUE = new RegExp(String.raw`("${SECRET_KEY}"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)`, "gi");
const ASSIGNMENT = new RegExp(String.raw`\b(${SECRET_KEY}\s*[=:]\s*)([^\s,;&"}]+)`, "gi");
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi;

export function redactBody(text: string): string {
  return text
    .replace(JSON_VALUE, '$1"[redacted]"')
    .replace(ASSIGNMENT, "$1[redacted]")
    .replace(URL_PASSWORD, "$1[redacted]@");
}
