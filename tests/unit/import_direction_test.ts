import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A module of the import graph as `deno info --json` reports it (the fields used here). */
interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

/** Every module reachable from `files`, as resolved by Deno itself (type-only imports too). */
async function importGraph(files: string[]): Promise<GraphModule[]> {
  const root = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(root, files.map((f) => `import ${JSON.stringify(f)};\n`).join(""));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(ROOT, "deno.json"), root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, `deno info failed: ${new TextDecoder().decode(out.stderr)}`);
    return JSON.parse(new TextDecoder().decode(out.stdout)).modules;
  } finally {
    await Deno.remove(root);
  }
}

function tsFilesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts")).map((name) => join(ROOT, folder, name));
}

/** `file:///…/repo/tests/x.ts` → `tests/x.ts`; anything outside the repository → undefined. */
function inRepo(specifier: string): string | undefined {
  if (!specifier.startsWith("file:")) return undefined;
  return relative(ROOT, fileURLToPath(specifier));
}

Deno.test("devstack/ and bench/ never import tests/, directly or through another module", async () => {
  const modules = await importGraph([...tsFilesUnder("devstack"), ...tsFilesUnder("bench")]);
  assert.ok(
    modules.some((m) => inRepo(m.specifier) === "devstack/stack.ts"),
    "the graph covers devstack/",
  );
  const wrong: string[] = [];
  for (const module of modules) {
    const from = inRepo(module.specifier);
    if (from === undefined || from.startsWith("tests/")) continue;
    for (const dependency of module.dependencies ?? []) {
      for (const resolved of [dependency.code?.specifier, dependency.type?.specifier]) {
        const to = resolved && inRepo(resolved);
        if (to?.startsWith("tests/")) wrong.push(`${from} imports ${to}`);
      }
    }
  }
  assert.deepEqual(wrong, [], "move what they need to devstack/lib/");
});
