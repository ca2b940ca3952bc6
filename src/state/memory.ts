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
  type SegmentRow,
  type SegmentStore,
  type StateStore,
  type TotalRow,
  type TotalsPage,
  updatedTotals,
} from "./store.ts";

/** The largest commit DynamoDB accepts, kept so tests meet the same limit. */
const MAX_COMMIT_ACTIONS = 100;

/** One pipeline's state. */
interface PipelineState {
  handoff?: Handoff;
  totals: Map<string, bigint>;
  ledger: Map<string, LedgerEntry>;
  /** Segment rows by index, and each row's stored totals by segment and attempt. */
  segments: Map<number, SegmentRow>;
  segmentTotals: Map<string, Map<string, bigint>>;
}

/** Every pipeline's state in maps; see the module comment. */
export class MemoryStore implements StateStore {
  readonly maxCommitActions = MAX_COMMIT_ACTIONS;
  readonly totalsTable = "memory";
  readonly #pipelines = new Map<string, PipelineState>();
  #closed = false;
  readonly segments: SegmentStore = new MemorySegments((pipeline) => this.#state(pipeline));

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
      if (expect.finisher !== undefined && stored?.plan?.finisher !== expect.finisher) return false;
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
      state.segments.clear();
      state.segmentTotals.clear();
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
      for (const key of updatedTotals(deltas)) {
        totals.set(key, (totals.get(key) ?? 0n) + deltas.get(key)!);
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
      state = {
        totals: new Map(),
        ledger: new Map(),
        segments: new Map(),
        segmentTotals: new Map(),
      };
      this.#pipelines.set(pipeline, state);
    }
    return state;
  }
}

/** Where a segment attempt's totals are kept (one attempt may scan several segments). */
const totalsKey = (row: SegmentRow) => `${row.index}/${row.attempt}`;

/** {@link SegmentStore} in memory, over the pipelines' states. */
class MemorySegments implements SegmentStore {
  constructor(private readonly state: (pipeline: string) => PipelineState) {}

  read(pipeline: string, count: number): Promise<(SegmentRow | undefined)[]> {
    return settle(() => {
      const rows = this.state(pipeline).segments;
      return Array.from({ length: count }, (_, i) => rows.has(i) ? { ...rows.get(i)! } : undefined);
    });
  }

  claim(row: SegmentRow, staleBefore: number): Promise<boolean> {
    return settle(() => {
      const rows = this.state(row.pipeline).segments;
      const stored = rows.get(row.index);
      const claimable = stored === undefined || stored.planId !== row.planId ||
        stored.status === "failed" ||
        (stored.status === "running" && (stored.leaseUntil ?? 0) < staleBefore);
      if (claimable) rows.set(row.index, { ...row });
      return claimable;
    });
  }

  renew(row: SegmentRow, leaseUntil: number, documents: number): Promise<boolean> {
    return settle(() => {
      const stored = this.#held(row);
      if (stored === undefined) return false;
      Object.assign(stored, { leaseUntil, documents });
      return true;
    });
  }

  finish(row: SegmentRow, totals?: ReadonlyMap<string, bigint>): Promise<boolean> {
    return settle(() => {
      if (this.#held(row) === undefined) return false;
      const state = this.state(row.pipeline);
      if (totals !== undefined) state.segmentTotals.set(totalsKey(row), new Map(totals));
      state.segments.set(row.index, {
        ...row,
        status: totals === undefined ? "failed" : "done",
        leaseUntil: undefined,
        chunks: totals === undefined ? undefined : 1,
        completedAt: new Date().toISOString(),
      });
      return true;
    });
  }

  totals(row: SegmentRow): Promise<Map<string, bigint>> {
    return settle(() => new Map(this.state(row.pipeline).segmentTotals.get(totalsKey(row))));
  }

  clearLedger(pipeline: string, segments: readonly number[]): Promise<number> {
    return settle(() => {
      const ledger = this.state(pipeline).ledger;
      let cleared = 0;
      for (const [record, entry] of ledger) {
        if (entry.segment !== undefined && segments.includes(entry.segment)) {
          ledger.delete(record);
          cleared++;
        }
      }
      return cleared;
    });
  }

  claimFinish(
    pipeline: string,
    planId: string,
    runId: string,
    until: number,
    staleBefore: number,
  ): Promise<boolean> {
    return settle(() => {
      const plan = this.#runningPlan(pipeline, planId);
      const free = plan !== undefined && (plan.finisher === undefined ||
        plan.finisher === runId || (plan.finisherUntil ?? 0) < staleBefore);
      if (free) Object.assign(plan, { finisher: runId, finisherUntil: until });
      return free;
    });
  }

  markCleared(pipeline: string, planId: string): Promise<boolean> {
    return settle(() => {
      const plan = this.#runningPlan(pipeline, planId);
      if (plan !== undefined) plan.cleared = true;
      return plan !== undefined;
    });
  }

  #runningPlan(pipeline: string, planId: string) {
    const handoff = this.state(pipeline).handoff;
    const running = handoff?.runId === planId && handoff.status === "running";
    return running ? handoff.plan && (handoff.plan = { ...handoff.plan }) : undefined;
  }

  #held(row: SegmentRow): SegmentRow | undefined {
    const stored = this.state(row.pipeline).segments.get(row.index);
    return stored?.attempt === row.attempt && stored.status === "running" ? stored : undefined;
  }
}

/** Runs `fn` now; its result or exception as a promise, like an I/O call's. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}
