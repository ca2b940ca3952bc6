/** Progress lines of the stack CLI: `stack: [service] message`. @module */

/** Prints one progress line, scoped to a service when given. */
export function say(scope: string | undefined, message: string): void {
  console.log(scope ? `stack: [${scope}] ${message}` : `stack: ${message}`);
}

/** Seconds since `startMs` (from `performance.now()`), e.g. `"3.2s"`. */
export function since(startMs: number): string {
  return `${((performance.now() - startMs) / 1000).toFixed(1)}s`;
}

/** Runs `fn`, printing `label …` before and `label: done in Ns` after. */
export async function timed<T>(scope: string, label: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  say(scope, `${label} …`);
  const result = await fn();
  say(scope, `${label}: done in ${since(start)}`);
  return result;
}

/** The last `lines` lines of a text file, or a note when it cannot be read. */
export async function tail(path: string, lines = 20): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    return text.trimEnd().split("\n").slice(-lines).map((l) => `    | ${l}`).join("\n");
  } catch {
    return `    (no log at ${path})`;
  }
}
