/**
 * Keeps secrets out of logs and error messages: URIs are written redacted, and every secret
 * the process was given is registered once at start, so that any line that would still
 * carry one (a driver's error echoing a connection string, say) has it replaced by `***`.
 *
 * @module
 */

/** Query parameters of a connection string whose values are secrets. */
const SECRET_PARAM = /password|secret|token|credential|authMechanismProperties/i;
/** Environment variables whose values are secrets. */
const SECRET_VARIABLE = /PASSWORD|SECRET|TOKEN|CREDENTIAL|ACCESS_KEY/;
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):([^@/]*)@/i;
const MASK = "***";

/**
 * Replaces the password of a URI (`scheme://user:pass@host`) and the values of secret query
 * parameters (`tlsCertificateKeyFilePassword`, `authMechanismProperties`, …) with `***`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   redactUri("mongodb://u:p@h/db?tls=true&tlsCertificateKeyFilePassword=k"),
 *   "mongodb://u:***@h/db?tls=true&tlsCertificateKeyFilePassword=***",
 * );
 * ```
 */
export function redactUri(uri: string): string {
  const [base, query] = splitQuery(uri.replace(USERINFO, `$1:${MASK}@`));
  if (query === undefined) return base;
  const params = query.split("&").map((pair) => {
    const at = pair.indexOf("=");
    return at > 0 && SECRET_PARAM.test(pair.slice(0, at)) ? `${pair.slice(0, at)}=${MASK}` : pair;
  });
  return `${base}?${params.join("&")}`;
}

function splitQuery(uri: string): [string, string | undefined] {
  const at = uri.indexOf("?");
  return at < 0 ? [uri, undefined] : [uri.slice(0, at), uri.slice(at + 1)];
}

/** The secrets a URI carries: its password and its secret parameters' values (raw and decoded). */
export function uriSecrets(uri: string): string[] {
  const found: string[] = [];
  const password = USERINFO.exec(uri)?.[2];
  if (password) found.push(password);
  const query = splitQuery(uri)[1];
  for (const pair of query?.split("&") ?? []) {
    const at = pair.indexOf("=");
    if (at > 0 && SECRET_PARAM.test(pair.slice(0, at))) found.push(pair.slice(at + 1));
  }
  return found.flatMap((value) => [value, safeDecode(value)]);
}

/** The values of secret-named environment variables (`*PASSWORD*`, `*SECRET*`, `*ACCESS_KEY*`…). */
export function environmentSecrets(env: Record<string, string | undefined>): string[] {
  return Object.entries(env).flatMap(([name, value]) =>
    SECRET_VARIABLE.test(name) && value ? [value] : []
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const registered = new Set<string>();

/**
 * Remembers secrets to scrub from every line written (as they are, and as JSON escapes them
 * inside a log line); values under 4 characters are ignored.
 */
export function registerSecrets(values: Iterable<string>): void {
  for (const value of values) {
    if (value.length < 4) continue;
    registered.add(value);
    registered.add(JSON.stringify(value).slice(1, -1));
  }
}

/** `text` with every registered secret replaced by `***`. */
export function scrub(text: string): string {
  let out = text;
  for (const secret of registered) out = out.replaceAll(secret, MASK);
  return out;
}
