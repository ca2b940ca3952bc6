import assert from "node:assert/strict";
import { HELP_WIDTH, helpText } from "../../src/cli/help.ts";
import { MODES, OPTIONS } from "../../src/cli/options.ts";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";

const help = helpText();
const lines = help.split("\n");

Deno.test("--help fits 80 columns", () => {
  const long = lines.filter((line) => [...line].length > HELP_WIDTH);
  assert.deepEqual(long, []);
  assert.equal(HELP_WIDTH, 80);
});

Deno.test("--help lists every option once, under the heading of the modes that use it", () => {
  let heading = "";
  const seen = new Map<string, string>();
  for (const line of lines) {
    if (line.startsWith("Options for ")) heading = line;
    const flag = /^ {2}(?:-\w, )?--([a-z-]+)/.exec(line)?.[1] ??
      OPTIONS.find((o) => o.envOnly && line.startsWith(`  ${o.env}=`))?.name;
    if (flag !== undefined && heading !== "") {
      assert.ok(!seen.has(flag), `--${flag} listed twice`);
      seen.set(flag, heading);
    }
  }
  for (const option of OPTIONS) {
    const under = seen.get(option.name);
    assert.ok(under, `--${option.name} missing`);
    if (option.modes.length === 0) assert.equal(under, "Options for every mode:");
    for (const mode of option.modes) assert.match(under, new RegExp(`\\b${mode}\\b`));
    for (const mode of MODES.filter((m) => !option.modes.includes(m))) {
      assert.doesNotMatch(under, new RegExp(`\\b${mode}\\b`), `--${option.name}`);
    }
    if (option.env) assert.ok(help.replace(/\s+/g, " ").includes(`env ${option.env}`));
  }
});

Deno.test("--help lists every exit code", () => {
  for (const code of Object.keys(EXIT_CODES)) {
    assert.ok(lines.some((line) => line.startsWith(`  ${code}  `)), `exit code ${code}`);
  }
});
