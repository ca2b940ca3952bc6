/**
 * Progress of long work: a live line on a terminal, a JSON log line every few seconds
 * otherwise (containers, CI).
 *
 * @module
 */
import { log, setStatusLine } from "./log.ts";

/** Options for {@link Progress}. */
export interface ProgressOptions {
  label: string;
  /** Expected total, for the percentage and ETA; 0 when unknown. */
  total: number;
  /** Draw on the terminal instead of logging. @default stderr is a terminal */
  tty?: boolean;
  /** Log interval when not on a terminal. @default 5000 */
  logEveryMs?: number;
}

/** Counts work done and reports rate and ETA. */
export class Progress {
  #done = 0;
  #lastReport = 0;
  readonly #started = performance.now();
  readonly #opts: Required<ProgressOptions>;

  constructor(options: ProgressOptions) {
    this.#opts = { tty: Deno.stderr.isTerminal(), logEveryMs: 5000, ...options };
  }

  /** Adds `n` units of work done and reports when due. */
  tick(n = 1): void {
    this.#done += n;
    const now = performance.now();
    if (now - this.#lastReport >= (this.#opts.tty ? 200 : this.#opts.logEveryMs)) {
      this.#lastReport = now;
      this.#report(false);
    }
  }

  /** Final report. */
  finish(): void {
    this.#report(true);
  }

  /** Seconds since start. */
  get seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  #report(final: boolean): void {
    const { label, total, tty } = this.#opts;
    const rate = this.#done / Math.max(this.seconds, 1e-3);
    const left = total > this.#done ? (total - this.#done) / Math.max(rate, 1e-9) : 0;
    if (tty) {
      const pct = total > 0 ? ` ${Math.min(100, (100 * this.#done) / total).toFixed(1)}%` : "";
      const eta = !final && total > 0 ? ` ETA ${Math.ceil(left)}s` : "";
      const text = `${label}: ${this.#done}${total > 0 ? `/${total}` : ""}${pct} ` +
        `${Math.round(rate)}/s${eta}`;
      setStatusLine(text);
      // The final line stays on the terminal; later log lines go below it.
      if (final) {
        Deno.stderr.writeSync(new TextEncoder().encode("\n"));
        setStatusLine("");
      }
    } else {
      log("info", final ? `${label} done` : label, {
        done: this.#done,
        total,
        perSecond: Math.round(rate),
        etaSeconds: final ? 0 : Math.ceil(left),
      });
    }
  }
}
