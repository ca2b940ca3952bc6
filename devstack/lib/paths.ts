/** Where the local stack keeps downloads (.cache/) and service state (.stack/). @module */
import { fileURLToPath } from "node:url";
import { join, relative } from "node:path";

/** Repository root. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
/** Downloads and builds, kept between runs so a second `up` is fast. */
export const CACHE_DIR: string = join(ROOT, ".cache");
/** Install logs (mvn, npm, go). */
export const INSTALL_LOG_DIR: string = join(CACHE_DIR, "logs");
/** Service data, pid files and logs. */
export const STACK_DIR: string = join(ROOT, ".stack");
/** Service logs, one `<service>.log` each. */
export const LOG_DIR: string = join(STACK_DIR, "logs");
/** Pid files, one `<service>.pid` each. */
export const RUN_DIR: string = join(STACK_DIR, "run");

/** `path` relative to the repository root, for messages. */
export function rel(path: string): string {
  return relative(ROOT, path) || ".";
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
