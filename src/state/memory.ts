/**
 * A {@link StateStore} in memory, with the DynamoDB store's conditional semantics: handoff
 * writes conditional on the run id and on the row not being live, ledger commits atomic and
 * conditional on the entries read before, the same commit size limit. For fast tests of
 * runtime logic, and for trying a pipeline without DynamoDB; it keeps nothing on exit.
 *
 * @module
 */
import {
  type BulkWriter,
  type ClaimCondition,
  commitActions,
  type Handoff,
  type HandoffCondition,
  LedgerConflictError,
  type LedgerEntry,
  type LedgerWrite,
  type StateStore,
  type TotalRow,
  type TotalsPage,
} from "./store.ts";

/** The largest commit DynamoDB accepts, kept so tests meet the same limit. */
const MAX_COMMIT_ACTIONS = 100;

/** One pipeline's state. */
interface PipelineState {
  handoff?: Handoff;
  totals: Map<string, bigint>;
  ledger: Map<string, LedgerEntry>;
}

/** Every pipeline's state in maps; see the module comment. */
export class MemoryStore implements StateStore {
  readonly maxCommitActions = MAX_COMMIT_ACTIONS;
  readonly totalsTable = "memory";
  readonly #pipelines = new Map<string, PipelineState>();
  #closed = false;

  readHandoff(pipeline: string): Promise<Handoff | undefined> {
    return settle(() => {
      const handoff = this.#state(pipeline).handoff;
      return handoff && { ...handoff };
    });
  }

  /** Memory has one layout: nothing is left of an older one. */
  readLegacyHandoff(pipeline: string): Promise<Handoff | undefined> {
    return settle(() => void this.#state(pipeline));
  }

  /** Memory has one layout. */
  assertCurrentLayout(pipeline: string): Promise<void> {
    return settle(() => void this.#state(pipeline));
  }

  putHandoff(handoff: Handoff, expect: HandoffCondition = {}): Promise<boolean> {
    return settle(() => {
      const state = this.#state(handoff.pipeline);
      const stored = state.handoff;
      if (expect.runId !== undefined && stored?.runId !== expect.runId) return false;
      if (expect.status !== undefined && stored?.status !== expect.status) return false;
      state.handoff = { ...handoff };
      return true;
    });
  }

  claimPipeline(handoff: Handoff, { overLive, staleBefore }: ClaimCondition): Promise<boolean> {
    return settle(() => {
      const state = this.#state(handoff.pipeline);
      const stored = state.handoff;
      const claimable = stored === undefined || stored.status === "complete" ||
        stored.status === "failed" ||
        (stored.status === "running" &&
          (stored.leaseUntil === undefined || stored.leaseUntil < staleBefore)) ||
        (overLive && stored.status === "live");
      if (claimable) state.handoff = { ...handoff };
      return claimable;
    });
  }

  renewClaim(pipeline: string, runId: string, leaseUntil: number): Promise<boolean> {
    return settle(() => {
      const stored = this.#state(pipeline).handoff;
      if (stored?.runId !== runId || stored.status !== "running") return false;
      stored.leaseUntil = leaseUntil;
      return true;
    });
  }

  clearPipeline(pipeline: string, signal?: AbortSignal): Promise<number> {
    return settle(() => {
      signal?.throwIfAborted();
      const state = this.#state(pipeline);
      const cleared = state.totals.size + state.ledger.size;
      state.totals.clear();
      state.ledger.clear();
      return cleared;
    });
  }

  bulkWriter(pipeline: string, signal?: AbortSignal): BulkWriter {
    const state = this.#state(pipeline);
    const queued: (() => void)[] = [];
    const queue = (write: () => void) =>
      settle(() => {
        signal?.throwIfAborted();
        queued.push(write);
      });
    return {
      putLedger: (entry) => queue(() => state.ledger.set(entry.record, { ...entry })),
      putTotal: (row) => queue(() => state.totals.set(row.key, row.total)),
      flush: () =>
        settle(() => {
          signal?.throwIfAborted();
          for (const write of queued.splice(0)) write();
        }),
    };
  }

  readLedger(pipeline: string, records: readonly string[]): Promise<Map<string, LedgerEntry>> {
    return settle(() => {
      const ledger = this.#state(pipeline).ledger;
      const found = new Map<string, LedgerEntry>();
      for (const record of records) {
        const entry = ledger.get(record);
        if (entry !== undefined) found.set(record, { ...entry });
      }
      return found;
    });
  }

  commitLedger(
    pipeline: string,
    writes: readonly LedgerWrite[],
    deltas: ReadonlyMap<string, bigint>,
    signal?: AbortSignal,
  ): Promise<void> {
    return settle(() => {
      signal?.throwIfAborted();
      const actions = commitActions(writes, deltas);
      if (actions > MAX_COMMIT_ACTIONS) {
        throw new RangeError(
          `Cannot commit ${actions} actions in one transaction (max ${MAX_COMMIT_ACTIONS})`,
        );
      }
      const { ledger, totals } = this.#state(pipeline);
      // All conditions first, then all writes: a commit is all or nothing.
      const changed = writes.some(({ previous, next }) =>
        ledger.get(next.record)?.version !== previous?.version
      );
      if (changed) throw new LedgerConflictError();
      for (const { next } of writes) ledger.set(next.record, { ...next });
      for (const [key, delta] of deltas) {
        if (delta !== 0n) totals.set(key, (totals.get(key) ?? 0n) + delta);
      }
    });
  }

  total(pipeline: string, key: string): Promise<TotalRow | undefined> {
    return settle(() => {
      const total = this.#state(pipeline).totals.get(key);
      return total === undefined ? undefined : { key, total };
    });
  }

  totalsPage(pipeline: string, page: { limit: number; after?: string }): Promise<TotalsPage> {
    return settle(() => {
      const totals = this.#state(pipeline).totals;
      const keys = [...totals.keys()].sort().filter((key) =>
        page.after === undefined || key > page.after
      );
      const rows = keys.slice(0, page.limit).map((key) => ({ key, total: totals.get(key)! }));
      const more = keys.length > page.limit;
      return more ? { rows, next: rows.at(-1)!.key } : { rows };
    });
  }

  async *totals(pipeline: string): AsyncGenerator<TotalRow> {
    const totals = this.#state(pipeline).totals;
    for (const [key, total] of [...totals]) yield await Promise.resolve({ key, total });
  }

  /** Memory does not fail transiently. */
  isTransient(_error: unknown): boolean {
    return false;
  }

  /** Always: memory never goes away. */
  answering(): boolean {
    return true;
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #state(pipeline: string): PipelineState {
    if (this.#closed) throw new Error("MemoryStore is closed");
    let state = this.#pipelines.get(pipeline);
    if (state === undefined) {
      state = { totals: new Map(), ledger: new Map() };
      this.#pipelines.set(pipeline, state);
    }
    return state;
  }
}

/** Runs `fn` now; its result or exception as a promise, like an I/O call's. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}
