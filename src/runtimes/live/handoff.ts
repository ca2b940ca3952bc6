/**
 * Live mode's start: wait for the bootstrap's handoff row, then mark it live so a later
 * bootstrap knows the state has moved on.
 *
 * @module
 */
import type { Handoff, StateStore } from "../../state/store.ts";
import { ConfigError, OrderstatsError } from "../../util/errors.ts";
import { log } from "../../util/log.ts";
import { sleep } from "../../util/retry.ts";

/** No usable handoff row (bootstrap never ran, or has not finished). */
export class HandoffMissingError extends OrderstatsError {
  constructor(message: string) {
    super("HANDOFF_MISSING", message);
  }
}

/**
 * Live adds deltas to the totals bootstrap wrote; adding them to another table would
 * produce totals without their base.
 */
function assertSameTotalsTable(handoff: Handoff, table: string): void {
  if (handoff.totalsTable !== undefined && handoff.totalsTable !== table) {
    throw new ConfigError(
      `--ddb-table (DDB_TABLE) is "${table}", but pipeline "${handoff.pipeline}" was ` +
        `bootstrapped into totals table "${handoff.totalsTable}": use that table, or ` +
        "bootstrap again into this one",
    );
  }
}

/** Options for {@link awaitHandoff}. */
export interface AwaitHandoffOptions {
  store: StateStore;
  pipeline: string;
  /** Keep polling while the row is missing or running. */
  wait: boolean;
  /** Give up after this long (ms). */
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
}

/** Returns a complete (or already live) handoff row, marked live. */
export async function awaitHandoff(options: AwaitHandoffOptions): Promise<Handoff> {
  const { store, pipeline, wait, timeoutMs, pollMs = 2000, signal } = options;
  const deadline = Date.now() + timeoutMs;
  for (let announced = false;; announced = true) {
    const handoff = await store.readHandoff(pipeline);
    if (handoff === undefined) await store.assertCurrentLayout(pipeline);
    if (handoff !== undefined) assertSameTotalsTable(handoff, store.totalsTable);
    if (handoff?.status === "live") return handoff;
    if (handoff?.status === "complete") {
      const live: Handoff = { ...handoff, status: "live", liveSince: new Date().toISOString() };
      if (await store.putHandoff(live, { runId: handoff.runId })) return live;
      continue; // A new bootstrap replaced the row meanwhile: look again.
    }
    const state = handoff === undefined
      ? "no handoff row yet"
      : handoff.status === "failed"
      ? `bootstrap ${handoff.runId} failed`
      : `bootstrap ${handoff.runId} still running`;
    if (!wait || Date.now() >= deadline) {
      throw new HandoffMissingError(
        `Pipeline "${pipeline}" has ${state}: run orderstats --mode=bootstrap first` +
          (wait ? ` (waited ${Math.round(timeoutMs / 1000)}s)` : ""),
      );
    }
    if (!announced) log("info", "waiting for bootstrap handoff", { pipeline, state });
    await sleep(pollMs, signal);
  }
}
