import assert from "node:assert/strict";
import { OPTIONS } from "../../src/cli/options.ts";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";
import { LiveMetrics } from "../../src/runtimes/live/metrics.ts";

const reference = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));

Deno.test("docs/configuration.md lists every flag, variable and default the CLI has", () => {
  for (const option of OPTIONS) {
    const row = reference.split("\n").find((l) => l.startsWith(`| \`--${option.name}\` |`));
    assert.ok(row, `--${option.name} is missing from docs/configuration.md`);
    if (option.env) assert.ok(row.includes(`\`${option.env}\``), `${option.env} missing`);
    if (option.default) {
      assert.ok(row.includes(`\`${option.default}\``), `default of --${option.name}`);
    }
  }
});

Deno.test("docs/configuration.md lists every exit code and metric", () => {
  for (const code of Object.keys(EXIT_CODES)) {
    assert.match(reference, new RegExp(`^\\| ${code} \\|`, "m"));
  }
  const names = new LiveMetrics().render().split("\n").filter((l) => l.startsWith("# TYPE"))
    .map((l) => l.split(" ")[2]);
  for (const name of names) assert.ok(reference.includes(name), `${name} missing`);
});
