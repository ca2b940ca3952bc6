import assert from "node:assert/strict";
import { OPTIONS } from "../../src/cli/options.ts";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";
import { LiveMetrics } from "../../src/runtimes/live/metrics.ts";

const reference = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));
/** Markdown table rows as trimmed cells (deno fmt pads them). */
const rows = reference.split("\n").filter((l) => l.startsWith("|"))
  .map((l) => l.split("|").slice(1, -1).map((cell) => cell.trim()));

Deno.test("docs/configuration.md lists every flag, variable and default the CLI has", () => {
  for (const option of OPTIONS) {
    // A secret read only from the environment has no flag: its row starts with "—".
    const flag = option.envOnly ? "—" : `\`--${option.name}\``;
    const row = rows.find((cells) =>
      cells[0] === flag && (!option.envOnly || cells[1] === `\`${option.env}\``)
    );
    assert.ok(row, `--${option.name} is missing from docs/configuration.md`);
    assert.equal(row[1], option.env ? `\`${option.env}\`` : "—", `variable of --${option.name}`);
    assert.equal(
      row[2],
      option.default ? `\`${option.default}\`` : "—",
      `default of --${option.name}`,
    );
  }
});

Deno.test("docs/configuration.md lists every exit code and metric", () => {
  for (const code of Object.keys(EXIT_CODES)) {
    assert.ok(rows.some((cells) => cells[0] === code), `exit code ${code} missing`);
  }
  const names = new LiveMetrics().render().split("\n").filter((l) => l.startsWith("# TYPE"))
    .map((l) => l.split(" ")[2]);
  for (const name of names) assert.ok(reference.includes(name), `${name} missing`);
});
