/**
 * What this build is: orderstats' version and the runtime it runs on, for `--version` and
 * the `orderstats_build_info` metric.
 *
 * @module
 */

/** orderstats' version: deno.json's `version` (tests/unit/log_test.ts keeps them equal). */
export const VERSION = "0.1.0";

/** Version and runtime, as metric labels. */
export function buildInfo(): Record<string, string> {
  return {
    version: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
  };
}
