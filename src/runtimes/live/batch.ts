/**
 * Applies one batch of CDC messages: decode, drop what the snapshot covers, fold per
 * record, read the ledger, compute new entries and deltas, commit them in atomic
 * transactions, dead-letter what cannot be applied. When it resolves, everything the
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
  LedgerBusyError,
  LedgerConflictError,
  type LedgerWrite,
  type StateStore,
} from "../../state/store.ts";
import type { Group } from "../../pipeline/monoid.ts";
import type { DeadLetter, DeadLetterSink } from "../../sources/kafka/dead_letters.ts";
import type { ContributionCodec } from "../../pipeline/contribution.ts";
import type { FieldNames } from "../../pipeline/fields.ts";
import { applyChanges, type RecordOutcome, type VersionedChange } from "./apply.ts";
import { packChunks } from "./chunks.ts";
import type { LiveMetrics } from "./metrics.ts";
import { BadRecordError } from "../../util/errors.ts";
import { log } from "../../util/log.ts";
import { forEachConcurrently } from "../../util/pool.ts";
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
  /** Keeps the consumer's group membership alive during long batches. */
  heartbeat: () => Promise<void>;
  signal?: AbortSignal;
}

/** One batch's decoded changes per record, and its dead letters so far. */
interface BatchState {
  byRecord: Map<string, VersionedChange[]>;
  origin: Map<string, CdcMessage>;
  letters: DeadLetter[];
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
  const batch: BatchState = { byRecord: new Map(), origin: new Map(), letters: [] };
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

/** Reads, recomputes and commits `records`; returns those to try again. */
async function applyRound(
  ctx: BatchContext,
  batch: BatchState,
  records: readonly string[],
): Promise<string[]> {
  const current = await ctx.store.readLedger(ctx.pipeline, records, {
    concurrency: ctx.concurrency,
    signal: ctx.signal,
  });
  const writes: LedgerWrite[] = [];
  const written = new Map<string, RecordOutcome>();
  for (const record of records) {
    const outcome = applyChanges(
      record,
      current.get(record),
      batch.byRecord.get(record)!,
      ctx.codec,
      ctx.handoffTime,
    );
    if (outcome.next === undefined) settle(ctx, batch, outcome);
    else {
      writes.push({ previous: current.get(record), next: outcome.next });
      written.set(record, outcome);
    }
  }
  const again = await commitChunks(ctx, writes);
  for (const [record, outcome] of written) if (!again.has(record)) settle(ctx, batch, outcome);
  return [...again];
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
 * Commits chunks with bounded concurrency; returns the records of chunks DynamoDB refused
 * for now. Another failure rejects once every chunk in flight has settled.
 */
async function commitChunks(ctx: BatchContext, writes: LedgerWrite[]): Promise<Set<string>> {
  const chunks = packChunks(writes, ctx.group, ctx.store.maxCommitActions);
  const refused = new Set<string>();
  await forEachConcurrently(chunks, ctx.concurrency, async (chunk) => {
    try {
      await ctx.store.commitLedger(ctx.pipeline, chunk.writes, chunk.deltas, ctx.signal);
    } catch (error) {
      if (error instanceof LedgerConflictError) ctx.metrics.conflicts.inc();
      else if (error instanceof LedgerBusyError) ctx.metrics.busy.inc({ reason: error.reason });
      else throw error;
      for (const write of chunk.writes) refused.add(write.next.record);
    }
    await ctx.heartbeat();
  });
  return refused;
}
