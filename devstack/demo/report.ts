/**
 * What the demo prints: numbered steps with timings, indented detail lines, and orderstats'
 * JSON log lines turned into something a person reads.
 *
 * @module
 */

/** Two-space indented detail lines sit under a step's title. */
export const INDENT = "      ";

/** Seconds since `startMs` (a `performance.now()` value), e.g. `"3.2 s"`. */
export function since(startMs: number): string {
  return `${((performance.now() - startMs) / 1000).toFixed(1)} s`;
}

/** A number with thousands separators: `20000` → `"20,000"`, `-1234567n` → `"-1,234,567"`. */
export function grouped(value: number | bigint): string {
  return value.toLocaleString("en-US");
}

/** Prints one indented detail line. */
export function detail(text: string): void {
  console.log(`${INDENT}${text}`);
}

/** Numbered steps (`[3/11] Seed 20,000 orders`) with how long each took. */
export class Steps {
  #number = 0;
  readonly #total: number;
  readonly #started = performance.now();

  constructor(total: number) {
    this.#total = total;
  }

  /** Runs one step: prints its title, runs `fn`, prints how long it took. */
  async run<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.#number++;
    const started = performance.now();
    console.log(`\n[${this.#number}/${this.#total}] ${title}`);
    const result = await fn();
    detail(`done in ${since(started)}`);
    return result;
  }

  /** Time since the first step. */
  get elapsed(): string {
    return since(this.#started);
  }
}

/**
 * One orderstats log line (`{"ts","level","msg",…fields}`) as `prefix │ msg  k=v …`;
 * other lines (Deno's own messages) come back as they are, after the prefix.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(
 *   formatLogLine("boot", '{"ts":"t","level":"info","msg":"bootstrap scan","done":5}'),
 *   "boot │ bootstrap scan  done=5",
 * );
 * ```
 */
export function formatLogLine(prefix: string, line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line);
  } catch {
    return `${prefix} │ ${line}`;
  }
  if (typeof entry !== "object" || entry === null || typeof entry.msg !== "string") {
    return `${prefix} │ ${line}`;
  }
  const { ts: _ts, level, msg, ...fields } = entry;
  const shown = Object.entries(fields).map(([key, value]) => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return `${key}=${text.length > 48 ? `${text.slice(0, 45)}…` : text}`;
  });
  const marker = level === "info" || level === "debug" ? "" : `${String(level).toUpperCase()} `;
  return `${prefix} │ ${marker}${msg}${shown.length ? `  ${shown.join(" ")}` : ""}`;
}
