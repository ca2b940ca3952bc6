/**
 * The state a pipeline keeps, behind one interface the runtimes depend on: totals, the
 * record ledger and the handoff row. `DynamoStore` (state/dynamodb/) is the product's;
 * `MemoryStore` (state/memory.ts) keeps the same conditional semantics in memory, so the
 * runtimes' logic can be tested fast. Both pass one shared test suite
 * (tests/unit/state_store_cases.ts).
 *
 * @module
 */

/** One page of totals and the cursor of the next page (absent on the last page). */
export interface TotalsPage {
  rows: TotalRow[];
  next?: string;
}

/** A key's current total. */
export interface TotalRow {
  key: string;
  total: bigint;
  /** ISO-8601 time of the last write (set when read from the table). */
  updatedAt?: string;
}

/**
 * What one record (order) currently contributes: to which key and how much, and the
 * version of the change that set it. `present: false` records a deletion, so an older
 * replayed insert cannot bring the order back.
 */
export interface LedgerEntry {
  record: string;
  present: boolean;
  key?: string;
  value?: bigint;
  version: string;
  /**
   * The bootstrap segment that wrote it (segmented bootstraps only), so a re-run of a
   * killed segment can delete what the killed run wrote before scanning again.
   */
  segment?: number;
}

/**
 * Status of the handoff between bootstrap and live: `running` (a bootstrap holds the
 * pipeline), `failed` (it stopped without finishing), `complete`, `live`.
 */
export type HandoffStatus = "running" | "failed" | "complete" | "live";

/** The row bootstrap writes last and live reads first. */
export interface Handoff {
  pipeline: string;
  status: HandoffStatus;
  runId: string;
  /**
   * The totals table the bootstrap wrote; live refuses to add deltas to another one.
   * Absent in rows written before totals had a table of their own.
   */
  totalsTable?: string;
  /** Resume token JSON (`{"_data": …}`); absent when bootstrapped without change streams. */
  resumeToken?: string;
  /** Packed cluster time `t << 32 | i` of the token; absent without change streams. */
  clusterTime?: bigint;
  /** Server operation time when the token was taken, when the server said it. */
  operationTime?: bigint;
  /** The CDC topic whose end offsets were read just before the token (raw JSON topics). */
  topic?: string;
  /** That topic's end offset per partition: messages below were written before T0. */
  topicOffsets?: ReadonlyMap<number, bigint>;
  documents: number;
  keys: number;
  badRecords: number;
  /** While `running`: epoch ms until which the bootstrap's claim is valid unless renewed. */
  leaseUntil?: number;
  /** A segmented bootstrap's plan: the number of `_id` ranges and their boundaries. */
  plan?: SegmentPlan;
  startedAt: string;
  completedAt?: string;
  liveSince?: string;
}

/**
 * How a segmented bootstrap splits the collection: `segments` ranges of `_id`, cut at
 * `boundaries` (segments − 1 values, ascending, encoded by the source; empty ranges are
 * allowed). Stored in the handoff row, so every process scans the same ranges.
 */
export interface SegmentPlan {
  segments: number;
  boundaries: readonly string[];
  /** The previous state has been cleared: segments may write. */
  cleared: boolean;
  /** The run finishing the plan (reading segment totals, writing totals and the handoff). */
  finisher?: string;
  /** Epoch ms until which the finisher's claim holds unless renewed. */
  finisherUntil?: number;
}

/** Status of one segment of a segmented bootstrap. */
export type SegmentStatus = "running" | "failed" | "done";

/** The row of one segment of a segmented bootstrap's plan. */
export interface SegmentRow {
  pipeline: string;
  /** The plan's run id (the handoff row's `runId`). */
  planId: string;
  index: number;
  /** The process run scanning it; a re-run after a crash is a new attempt. */
  attempt: string;
  status: SegmentStatus;
  /** While `running`: epoch ms until which the attempt's claim holds unless renewed. */
  leaseUntil?: number;
  /** Documents scanned so far (updated with each lease renewal) or in all. */
  documents: number;
  badRecords: number;
  /** When `done`: how many items hold its per-key totals. */
  chunks?: number;
  startedAt: string;
  completedAt?: string;
}

/** When a handoff write may happen: over a row of that run and/or with that status. */
export interface HandoffCondition {
  runId?: string;
  status?: HandoffStatus;
  /** The plan's finisher (segmented bootstraps). */
  finisher?: string;
}

/** When a bootstrap may claim a pipeline, besides a row that is absent, complete or failed. */
export interface ClaimCondition {
  /** A `live` row may be taken over (`--force`). */
  overLive: boolean;
  /** A `running` row whose lease ended before this (epoch ms) belongs to a crashed run. */
  staleBefore: number;
}

/** One record's ledger replacement inside a commit. */
export interface LedgerWrite {
  /** The entry read before computing `next`; the write is conditional on it still being there. */
  previous?: LedgerEntry;
  next: LedgerEntry;
}

/** Thrown when a ledger entry changed between read and write (another writer). */
export class LedgerConflictError extends Error {
  constructor(options?: ErrorOptions) {
    super("A ledger entry changed between read and write", options);
    this.name = "LedgerConflictError";
  }
}

/**
 * Thrown when the store kept refusing a commit through every retry for a reason that
 * passes with time: throttling, or a conflict with another transaction. Nothing of it was
 * written; the caller may try again later.
 */
export class LedgerBusyError extends Error {
  /** The cancellation reason or exception name, e.g. `ThrottlingError`. */
  readonly reason: string;
  constructor(reason: string, options?: ErrorOptions) {
    super(`DynamoDB refused a ledger transaction through every retry: ${reason}`, options);
    this.name = "LedgerBusyError";
    this.reason = reason;
  }
}

/** Bootstrap's bulk path: unconditional puts, buffered, durable after `flush()`. */
export interface BulkWriter {
  /** Queues a ledger entry; resolves when there is room for more. */
  putLedger(entry: LedgerEntry): Promise<void>;
  /** Queues an absolute total stamped `now`; resolves when there is room for more. */
  putTotal(row: TotalRow, now: string): Promise<void>;
  /** Writes everything queued and waits for all of it. */
  flush(): Promise<void>;
}

/** Reads of many ledger entries. */
export interface ReadLedgerOptions {
  /** Requests in flight at most. @default 8 */
  concurrency?: number;
  signal?: AbortSignal;
}

/** A pipeline's state; every method names the pipeline, one store serves many. */
export interface StateStore extends AsyncDisposable {
  /** Ledger writes plus total updates one {@link StateStore.commitLedger} call may hold. */
  readonly maxCommitActions: number;
  /** Where the totals live, recorded in the handoff row so live adds to the same totals. */
  readonly totalsTable: string;

  /** The pipeline's handoff row, or undefined before any bootstrap. */
  readHandoff(pipeline: string): Promise<Handoff | undefined>;
  /** A handoff row an older layout of the state left behind, if any. */
  readLegacyHandoff(pipeline: string): Promise<Handoff | undefined>;
  /** Throws when the pipeline's state is in a layout this version does not run on. */
  assertCurrentLayout(pipeline: string): Promise<void>;
  /** Writes the handoff row if `expect` holds; false when it did not. */
  putHandoff(handoff: Handoff, expect?: HandoffCondition): Promise<boolean>;
  /**
   * Writes a bootstrap's `running` row only if no other bootstrap holds the pipeline: no
   * row, one `complete` or `failed`, one `running` whose lease ended before
   * `staleBefore`, or with `overLive` a `live` one. False when the row stood in the way.
   */
  claimPipeline(handoff: Handoff, when: ClaimCondition): Promise<boolean>;
  /** Extends a running claim of `runId` to `leaseUntil`; false when the run lost it. */
  renewClaim(pipeline: string, runId: string, leaseUntil: number): Promise<boolean>;

  /** Deletes every total and ledger entry of the pipeline; returns how many. */
  clearPipeline(pipeline: string, signal?: AbortSignal): Promise<number>;
  /** A bulk writer of the pipeline's ledger entries and totals. */
  bulkWriter(pipeline: string, signal?: AbortSignal): BulkWriter;

  /** The current ledger entries of `records` (those that have one), strongly consistent. */
  readLedger(
    pipeline: string,
    records: readonly string[],
    options?: ReadLedgerOptions,
  ): Promise<Map<string, LedgerEntry>>;
  /**
   * Writes ledger entries and the total deltas they imply atomically: all of it or none.
   * Each write is conditional on the entry read before (`previous`), so a concurrent
   * writer makes this throw {@link LedgerConflictError} instead of double counting. More
   * than {@link StateStore.maxCommitActions} actions throw `RangeError`.
   */
  commitLedger(
    pipeline: string,
    writes: readonly LedgerWrite[],
    deltas: ReadonlyMap<string, bigint>,
    signal?: AbortSignal,
  ): Promise<void>;

  /** One key's total, read consistently; undefined when the key has none. */
  total(pipeline: string, key: string): Promise<TotalRow | undefined>;
  /** The pipeline's totals, all of them (unordered). */
  totals(pipeline: string): AsyncGenerator<TotalRow>;
  /**
   * Up to `limit` of the pipeline's totals after the cursor `after` a previous page
   * returned; every total appears on exactly one page.
   */
  totalsPage(pipeline: string, page: { limit: number; after?: string }): Promise<TotalsPage>;

  /** The segment rows of a segmented bootstrap. */
  readonly segments: SegmentStore;

  /** Whether a retry may cure `error` (throttling, a server or network fault). */
  isTransient(error: unknown): boolean;

  /**
   * False while the store does not answer (its requests fail for an outage or hang), so
   * writes cannot succeed now; live mode's `/readyz` says not ready meanwhile.
   */
  answering(): boolean;

  /** Releases connections; the store is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * The rows of a segmented bootstrap's segments (`S#`) and their per-customer totals (`F#`),
 * beside the handoff row that holds the plan. Every write is conditional on the plan and
 * the attempt, like the claim on the handoff row.
 */
export interface SegmentStore {
  /** The rows of segments 0…count−1 (undefined where there is none). */
  read(pipeline: string, count: number): Promise<(SegmentRow | undefined)[]>;
  /**
   * Puts `row` (status `running`) if no other attempt of its plan holds the segment: no row,
   * a row of another plan, a `failed` one, or a `running` one whose lease ended before
   * `staleBefore`. False when the row stood in the way.
   */
  claim(row: SegmentRow, staleBefore: number): Promise<boolean>;
  /** Extends the attempt's lease and records its progress; false when it lost the segment. */
  renew(row: SegmentRow, leaseUntil: number, documents: number): Promise<boolean>;
  /**
   * Stores the segment's per-key totals, then marks the row `done` (or `failed` when
   * `totals` is undefined), if the attempt still holds it; false when it did not.
   */
  finish(row: SegmentRow, totals?: ReadonlyMap<string, bigint>): Promise<boolean>;
  /** The per-key totals a `done` row's attempt stored. */
  totals(row: SegmentRow): Promise<Map<string, bigint>>;
  /** Deletes the pipeline's ledger entries written by these segments; returns how many. */
  clearLedger(pipeline: string, segments: readonly number[], signal?: AbortSignal): Promise<number>;
  /**
   * Makes `runId` the plan's finisher until `until` (or extends it), if the plan is still
   * running and has no other finisher whose claim ended after `staleBefore`.
   */
  claimFinish(
    pipeline: string,
    planId: string,
    runId: string,
    until: number,
    staleBefore: number,
  ): Promise<boolean>;
  /** Records that the plan's previous state is cleared, if the plan is still running. */
  markCleared(pipeline: string, planId: string): Promise<boolean>;
}

/** Live's optional watermarks of applied Kafka offsets (`--ddb-dedup-table`). */
export interface AppliedOffsetsStore {
  /** The highest applied offset of a partition, or -1 when none is recorded. */
  applied(topic: string, partition: number): Promise<bigint>;
  /** Records that everything up to `offset` is durable; never moves the watermark back. */
  advance(topic: string, partition: number, offset: bigint): Promise<void>;
}

/** The number of actions a commit of `writes` and `deltas` takes (zero deltas cost none). */
export function commitActions(
  writes: readonly LedgerWrite[],
  deltas: ReadonlyMap<string, bigint>,
): number {
  return writes.length + updatedTotals(deltas).length;
}

/** The keys whose totals a commit of `deltas` updates: a zero delta writes nothing. */
export function updatedTotals(deltas: ReadonlyMap<string, bigint>): string[] {
  return [...deltas].filter(([, delta]) => delta !== 0n).map(([key]) => key);
}
