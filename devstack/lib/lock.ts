/**
 * A lock file so that two `stack.ts up|down` in the same tree (several people share one
 * checkout) do not start the same service twice or overwrite each other's pid files.
 *
 * @module
 */
import { dirname } from "node:path";
import { isAlive } from "./process.ts";
import { say } from "./report.ts";
import { delay } from "./wait.ts";

/**
 * Takes `path` (created exclusively, holding this process's pid), waiting while another live
 * stack.ts holds it; a lock left by a dead process is taken over.
 *
 * @returns A handle whose disposal removes the lock.
 * @throws {Error} When it is still held after `timeoutMs`.
 */
export async function acquireLock(path: string, timeoutMs = 300_000): Promise<AsyncDisposable> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let told = false;
  while (true) {
    try {
      await Deno.writeTextFile(path, `${Deno.pid}\n`, { createNew: true });
      return { [Symbol.asyncDispose]: () => Deno.remove(path).catch(() => {}) };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    const holder = Number((await Deno.readTextFile(path).catch(() => "")).trim());
    if (!Number.isInteger(holder) || holder <= 0 || !(await isAlive(holder, "stack.ts"))) {
      await Deno.remove(path).catch(() => {});
      continue;
    }
    if (Date.now() >= deadline) {
      throw new Error(`another stack.ts (pid ${holder}) still holds ${path}`);
    }
    if (!told) say(undefined, `waiting for another stack.ts (pid ${holder}) to finish …`);
    told = true;
    await delay(500);
  }
}
