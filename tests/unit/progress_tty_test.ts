import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const DEMO = fileURLToPath(new URL("../support/progress_and_logs.ts", import.meta.url));

/** What a terminal shows for each line: the text after the last "clear line" on it. */
function shownLines(output: string): string[] {
  return output.replaceAll("\r\n", "\n").split("\n").map((line) => {
    const parts = line.split("\r\x1b[2K");
    return parts[parts.length - 1];
  }).filter((line) => line !== "");
}

Deno.test("the terminal progress line never shares a line with a JSON log line", async () => {
  // `script` gives the child a real pseudo-terminal, as an operator's shell would.
  const command = `${Deno.execPath()} run -A ${DEMO}`;
  const out = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text);
  const shown = shownLines(text);
  const logs = shown.filter((line) => line.includes('"msg"'));
  assert.equal(logs.length, 4, text);
  for (const line of logs) assert.doesNotThrow(() => JSON.parse(line), JSON.stringify(line));
  assert.ok(shown.some((line) => /^documents: 3\/3 100\.0%/.test(line)), JSON.stringify(shown));
});
