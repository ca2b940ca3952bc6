/**
 * Structured logging: one JSON object per line on stderr, so stdout stays free for the
 * machine-readable results (`--mode=totals`, the bootstrap summary).
 *
 * @module
 */
import { scrub } from "./redact.ts";

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

/** True when `level` lines are written. */
export function logs(level: Level): boolean {
  return ORDER[level] >= ORDER[threshold];
}

/** A line drawn on a terminal under the log (progress); log lines are written above it. */
let statusLine = "";
const encoder = new TextEncoder();
const CLEAR_LINE = "\r\x1b[2K";

/**
 * Draws (or with `""` removes) the terminal status line. Only for a terminal stderr: the
 * line is redrawn after each log line, so it never shares a line with one.
 */
export function setStatusLine(text: string): void {
  statusLine = text;
  Deno.stderr.writeSync(encoder.encode(CLEAR_LINE + text));
}

/** Writes one log line: `{ts, level, msg, ...fields}`. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (!logs(level)) return;
  // Secrets never reach a line, whichever field or error message would carry them.
  const line = scrub(toJson({ ts: new Date().toISOString(), level, msg, ...fields }));
  if (statusLine === "") {
    console.error(line);
  } else {
    Deno.stderr.writeSync(encoder.encode(`${CLEAR_LINE}${line}\n${statusLine}`));
  }
}

/**
 * Turns an error and its causes into loggable fields: one line per failure, the whole
 * chain in nested `cause` fields (and `errors` of an AggregateError); stacks only at debug.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const fields: Record<string, unknown> = { error: error.message, errorName: error.name };
  if ("code" in error && error.code !== undefined) fields.errorCode = error.code;
  if (error instanceof AggregateError) fields.errors = error.errors.map(errorFields);
  if (error.cause !== undefined) fields.cause = errorFields(error.cause);
  if (logs("debug") && error.stack) fields.stack = error.stack;
  return fields;
}
