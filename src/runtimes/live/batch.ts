/**
 * Applies one batch of CDC messages: decode, drop what the snapshot covers, fold per
 * record, read the ledger (or take the entries this worker wrote, see ledger_cache.ts),
 * compute new entries and deltas, commit them in atomic conditional transactions,
 * dead-letter what cannot be applied. When it resolves, everything the
 * batch implies is durable and its offsets may be committed; when it rejects, nothing of
 * it is still running and none of its dead letters is left queued.
 *
 * @module
 */
import {
  type CdcFormat,
  type CdcMessage,
  decodeCdcMessage,
  messageWhere,
} from "../../sources/cdc/mod.ts";
import type { ClusterTime } from "../../pipeline/change.ts";
import {
  commitActions,
  LedgerBusyError,
  LedgerConflictError,
  type LedgerEntry,
  type LedgerWrite,
  type StateStore,
  updatedTotals,
} from "../../state/store.ts";
import type { Group } from "../../pipeline/monoid.ts";
import type { DeadLetter, DeadLetterSink } from "../../sources/kafka/dead_letters.ts";
import type { ContributionCodec } from "../../pipeline/contribution.ts";
import type { FieldNames } from "../../pipeline/fields.ts";
import { applyChanges, type RecordOutcome, type VersionedChange } from "./apply.ts";
import { type Chunk, packChunks } from "./chunks.ts";
import type { LedgerCache } from "./ledger_cache.ts";
import type { LiveMetrics } from "./metrics.ts";
import { BadRecordError } from "../../util/errors.ts";
import { log } from "../../util/log.ts";
import { forEachExclusive } from "../../util/pool.ts";
import { backoffMs, sleep } from "../../util/retry.ts";

/** Rounds after which a batch whose transactions keep being refused logs a warning. */
const WARN_EVERY_ROUNDS = 10;

/** What a batch needs besides its messages. */
export interface BatchContext {
  pipeline: string;
  store: StateStore;
  group: Group<bigint>;
  codec: ContributionCodec;
  /** The fields the pipeline reads, for the decoders. */
  fields: FieldNames;
  format: CdcFormat;
  /** See `DecodeCdcOptions.maxRecordBytes`. */
  maxRecordBytes?: number;
  /** Handoff cluster time T0; changes certainly before it are covered by the scan. */
  handoffTime?: ClusterTime;
  /** Per partition, the topic's end offset at the handoff: messages below it are covered. */
  handoffOffsets?: ReadonlyMap<number, bigint>;
  deadLetters: DeadLetterSink;
  metrics: LiveMetrics;
  concurrency: number;
  /** The entries this worker wrote, guessed instead of read; absent: every entry is read. */
  cache?: LedgerCache;
  /** Keeps the consumer's group membership alive during long batches. */
  heartbeat: () => Promise<void>;
  signal?: AbortSignal;
}

/** One batch's decoded changes per record, and its dead letters so far. */
interface BatchState {
  byRecord: Map<string, VersionedChange[]>;
  origin: Map<string, CdcMessage>;
  letters: DeadLetter[];
  /** Records whose entry must be read, not guessed: a commit built on a guess was refused. */
  mustRead: Set<string>;
}

/**
 * Applies a batch; resolves when its effects and dead letters are durable.
 *
 * Records whose transaction is refused (a ledger entry changed under it, DynamoDB
 * throttled it, another transaction conflicted) are read again and recomputed in a later
 * round, after a backoff, for as long as it takes: the worker never gives up on a batch
 * for those. A record's rejected and stale changes count once, from the round whose
 * outcome became durable.
 */
export async function applyBatch(
  ctx: BatchContext,
  messages: readonly CdcMessage[],
): Promise<void> {
  const batch: BatchState = {
    byRecord: new Map(),
    origin: new Map(),
    letters: [],
    mustRead: new Set(),
  };
  for (const message of messages) {
    const change = decode(ctx, batch, message);
    if (change === undefined) continue;
    batch.origin.set(change.where, message);
    const list = batch.byRecord.get(change.change.orderKey) ?? [];
    list.push(change);
    batch.byRecord.set(change.change.orderKey, list);
  }

  let pending = [...batch.byRecord.keys()];
  for (let round = 0; pending.length > 0; round++) {
    if (round > 0) await backOff(ctx, round, pending.length);
    pending = await applyRound(ctx, batch, pending);
  }
  await ctx.deadLetters.send(batch.letters);
  for (const { kind } of batch.letters) ctx.metrics.deadLettered.inc({ reason: kind });
}

/** Reads (or guesses), recomputes and commits `records`; returns those to try again. */
async function applyRound(
  ctx: BatchContext,
  batch: BatchState,
  records: readonly string[],
): Promise<string[]> {
  const outcomes = await outcomesOf(ctx, batch, records);
  const writes: LedgerWrite[] = [];
  for (const { previous, outcome } of outcomes.values()) {
    if (outcome.next === undefined) settle(ctx, batch, outcome);
    else writes.push({ previous, next: outcome.next });
  }
  const refused = await commitChunks(ctx, writes);
  for (const { next } of writes) {
    if (refused.has(next.record)) {
      // The entry may not be what the commit assumed: read it next round.
      batch.mustRead.add(next.record);
      ctx.cache?.forget(next.record);
      continue;
    }
    settle(ctx, batch, outcomes.get(next.record)!.outcome);
    ctx.cache?.remember(partitionOf(batch, next.record), next);
  }
  return [...refused];
}

/** A record's outcome and the entry it was computed from. */
interface Computed {
  previous?: LedgerEntry;
  outcome: RecordOutcome;
}

/**
 * Each record's outcome on top of its current entry: the cached one when this worker has
 * it, none when the batch starts with MongoDB inserting the order (the commit's condition
 * proves either guess), read otherwise. A guess that leads to no write
 * proves nothing, so those records are read and computed again before anything settles.
 */
async function outcomesOf(
  ctx: BatchContext,
  batch: BatchState,
  records: readonly string[],
): Promise<Map<string, Computed>> {
  const guessed = new Map<string, LedgerEntry | undefined>();
  const toRead: string[] = [];
  for (const record of records) {
    if (batch.mustRead.has(record) || !ctx.cache?.capacity) toRead.push(record);
    else if (ctx.cache.has(record)) guessed.set(record, ctx.cache.guess(record));
    // An order MongoDB inserted has no entry yet (else the commit's condition says so).
    else if (insertedFirst(batch, record)) guessed.set(record, undefined);
    else toRead.push(record);
  }
  ctx.metrics.ledgerGuesses.inc({}, guessed.size);
  const computed = new Map<string, Computed>();
  const compute = (record: string, previous: LedgerEntry | undefined) => {
    const changes = batch.byRecord.get(record)!;
    const outcome = applyChanges(record, previous, changes, ctx.codec, ctx.handoffTime);
    computed.set(record, { previous, outcome });
    return outcome;
  };
  const unproven = [...guessed].filter(([r, guess]) => compute(r, guess).next === undefined);
  toRead.push(...unproven.map(([record]) => record));
  const read = await readEntries(ctx, toRead);
  for (const record of toRead) compute(record, read.get(record));
  return computed;
}

/** Whether `record`'s first change in the batch is an insert. */
function insertedFirst(batch: BatchState, record: string): boolean {
  const first = batch.byRecord.get(record)![0].change;
  return first.kind === "upsert" && first.inserted === true;
}

/** Strongly consistent reads of `records`' entries, counted. */
function readEntries(ctx: BatchContext, records: string[]): Promise<Map<string, LedgerEntry>> {
  ctx.metrics.ledgerReads.inc({}, records.length);
  if (records.length === 0) return Promise.resolve(new Map());
  return ctx.store.readLedger(ctx.pipeline, records, {
    concurrency: ctx.concurrency,
    signal: ctx.signal,
  });
}

/** The partition `record`'s changes came from (a topic keyed by `_id` keeps it on one). */
function partitionOf(batch: BatchState, record: string): number {
  return batch.byRecord.get(record)!.at(-1)!.origin.partition;
}

/** Counts a record's durable outcome: stale changes, and rejected ones as dead letters. */
function settle(ctx: BatchContext, batch: BatchState, outcome: RecordOutcome): void {
  ctx.metrics.stale.inc({}, outcome.stale);
  ctx.metrics.skippedBeforeHandoff.inc({}, outcome.covered);
  for (const { where, error } of outcome.rejected) {
    deadLetter(batch, batch.origin.get(where)!, error);
  }
}

async function backOff(ctx: BatchContext, round: number, records: number): Promise<void> {
  if (round % WARN_EVERY_ROUNDS === 0) {
    log("warn", "ledger transactions keep being refused; retrying", { round, records });
  }
  await ctx.heartbeat();
  await sleep(backoffMs(Math.min(round, 10), 100, 5_000), ctx.signal);
}

function decode(
  ctx: BatchContext,
  batch: BatchState,
  message: CdcMessage,
): VersionedChange | undefined {
  if (BigInt(message.offset) < (ctx.handoffOffsets?.get(message.partition) ?? 0n)) {
    ctx.metrics.skippedBeforeHandoff.inc();
    return undefined;
  }
  try {
    const decoded = decodeCdcMessage(message, {
      format: ctx.format,
      fields: ctx.fields,
      maxRecordBytes: ctx.maxRecordBytes,
    });
    if (decoded.kind === "skip") {
      ctx.metrics.events.inc({ outcome: decoded.reason });
      return undefined;
    }
    ctx.metrics.events.inc({ outcome: decoded.kind });
    return {
      change: decoded,
      origin: {
        position: decoded.position,
        partition: message.partition,
        offset: BigInt(message.offset),
      },
      where: messageWhere(message),
    };
  } catch (error) {
    if (!(error instanceof BadRecordError)) throw error;
    deadLetter(batch, message, error);
    return undefined;
  }
}

function deadLetter(batch: BatchState, message: CdcMessage, error: BadRecordError): void {
  log("warn", "dead-lettering message", {
    where: error.where,
    kind: error.kind,
    reason: error.reason,
  });
  batch.letters.push({ message, kind: error.kind, reason: error.reason });
}

/**
 * A total updated by at least this many of a batch's transactions is a busy customer's: they
 * take turns on it, as DynamoDB would cancel all but one of those in flight together. A total
 * that fewer share (a boundary, a moved order) is left to chance: a conflict costs about one
 * retry, while waiting would hold up the batch's other customers.
 */
const CONTENDED_COMMITS = 3;

/** Per chunk, the busy customers' totals it updates. */
function contendedTotals(chunks: readonly Chunk[]): (chunk: Chunk) => string[] {
  const totals = new Map(chunks.map((chunk) => [chunk, updatedTotals(chunk.deltas)]));
  const commits = new Map<string, number>();
  for (const keys of totals.values()) {
    for (const key of keys) commits.set(key, (commits.get(key) ?? 0) + 1);
  }
  return (chunk) => totals.get(chunk)!.filter((key) => commits.get(key)! >= CONTENDED_COMMITS);
}

/**
 * Commits chunks with bounded concurrency; returns the records of chunks DynamoDB refused
 * for now. Another failure rejects once every chunk in flight has settled.
 */
async function commitChunks(ctx: BatchContext, writes: LedgerWrite[]): Promise<Set<string>> {
  const chunks = packChunks(writes, ctx.group, ctx.store.maxCommitActions);
  const refused = new Set<string>();
  await forEachExclusive(chunks, ctx.concurrency, contendedTotals(chunks), async (chunk) => {
    const items = commitActions(chunk.writes, chunk.deltas);
    try {
      await ctx.store.commitLedger(ctx.pipeline, chunk.writes, chunk.deltas, ctx.signal);
      ctx.metrics.transactionItems.inc({ outcome: "committed" }, items);
    } catch (error) {
      if (error instanceof LedgerConflictError) ctx.metrics.conflicts.inc();
      else if (error instanceof LedgerBusyError) ctx.metrics.busy.inc({ reason: error.reason });
      else throw error;
      ctx.metrics.transactionItems.inc({ outcome: "refused" }, items);
      for (const write of chunk.writes) refused.add(write.next.record);
    }
    await ctx.heartbeat();
  });
  return refused;
}
