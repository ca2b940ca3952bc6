/**
 * Structured logging: one JSON object per line on stderr, so stdout stays free for the
 * machine-readable results (`--mode=totals`, the bootstrap summary).
 *
 * @module
 */

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold: Level = "info";

/** Sets the lowest level that is written. */
export function setLogLevel(level: Level): void {
  threshold = level;
}

/** JSON.stringify that writes bigint as a decimal string (money stays exact in logs). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => typeof v === "bigint" ? v.toString() : v);
}

/** Writes one log line: `{ts, level, msg, ...fields}`. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[threshold]) return;
  const line = toJson({ ts: new Date().toISOString(), level, msg, ...fields });
  console.error(line);
}

/** Turns an error (and its causes) into loggable fields without stack noise. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const fields: Record<string, unknown> = { error: error.message, errorName: error.name };
  if ("code" in error && error.code !== undefined) fields.errorCode = error.code;
  if (error.cause !== undefined) fields.cause = errorFields(error.cause);
  return fields;
}
