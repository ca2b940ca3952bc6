import assert from "node:assert/strict";
import plugin, { MAX_LINES } from "../../scripts/lint/function_length.ts";

const body = (lines: number) => Array.from({ length: lines - 2 }, (_, i) => `  f(${i});`);
const source = (lines: number) =>
  ["export function long(f: (n: number) => void) {", ...body(lines), "}", ""].join("\n");

Deno.test("the lint plugin flags a function in src/ over MAX_LINES lines, not one at the limit", () => {
  const over = Deno.lint.runPlugin(plugin, "/repo/src/a.ts", source(MAX_LINES + 1));
  assert.deepEqual(over.map((d) => d.message), [
    `function is ${MAX_LINES + 1} lines, over ${MAX_LINES}`,
  ]);
  assert.deepEqual(Deno.lint.runPlugin(plugin, "/repo/src/a.ts", source(MAX_LINES)), []);
  assert.deepEqual(Deno.lint.runPlugin(plugin, "/repo/tests/a.ts", source(MAX_LINES + 1)), []);
});
