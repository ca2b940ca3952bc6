/**
 * The shape of src/: imports point one way down the layers
 * util ← pipeline ← sources/state ← runtimes ← app ← cli.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** Layer rank of each top-level folder of src/; a module may import only lower ranks. */
const RANK: Record<string, number> = {
  util: 0,
  pipeline: 1,
  sources: 2,
  state: 2,
  runtimes: 3,
  app: 4,
  cli: 5,
};

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Relative module specifiers of `import`/`export … from` statements (not doc examples). */
function relativeImports(text: string): string[] {
  const code = text.replace(/\/\*\*[\s\S]*?\*\//g, "");
  return [...code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"/g)]
    .map((match) => match[1]);
}

function layerOf(path: string): string {
  return relative(SRC, path).split("/")[0];
}

Deno.test("src/ imports point only down the layers (util ← pipeline ← sources/state ← runtimes ← app ← cli)", async () => {
  const upward: string[] = [];
  for await (const file of sourceFiles(SRC)) {
    const from = layerOf(file);
    assert.ok(from in RANK, `${relative(SRC, file)} is in no known layer`);
    for (const specifier of relativeImports(await Deno.readTextFile(file))) {
      const to = layerOf(resolve(dirname(file), specifier));
      if (to !== from && !(RANK[to] < RANK[from])) {
        upward.push(`${relative(SRC, file)} → ${specifier} (${from} → ${to})`);
      }
    }
  }
  assert.deepEqual(upward, [], `imports pointing up or across a layer:\n${upward.join("\n")}`);
});
