/**
 * Draws bootstrap's terminal progress line and writes log lines in between, for
 * tests/unit/progress_tty_test.ts, which runs this on a pseudo-terminal.
 *
 * @module
 */
import { Progress } from "../../src/util/progress.ts";
import { log } from "../../src/util/log.ts";

const pause = () => new Promise((resolve) => setTimeout(resolve, 250));
const progress = new Progress({ label: "documents", total: 3, tty: true });
for (let i = 0; i < 3; i++) {
  progress.tick();
  log("info", "between ticks", { i });
  await pause();
}
progress.finish();
log("info", "after the progress");
