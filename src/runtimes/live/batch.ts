/**
 * Applies one batch of CDC messages: decode, drop what the snapshot covers, fold per
 * record, read the ledger, compute new entries and deltas, commit them in atomic
 * transactions, dead-letter what cannot be applied. When it resolves, everything the
 * batch implies is durable and its offsets may be committed.
 *
 * @module
 */
import {
  type CdcFormat,
  type CdcMessage,
  decodeCdcMessage,
  messageWhere,
} from "../../sources/cdc/mod.ts";
import type { ClusterTime } from "../../sources/change.ts";
import type { DynamoStore } from "../../state/dynamodb/store.ts";
import {
  commitLedger,
  LedgerConflictError,
  type LedgerWrite,
  readLedgerEntries,
} from "../../state/dynamodb/ledger.ts";
import type { Group } from "../../pipeline/monoid.ts";
import type { DeadLetterSink } from "../../sources/kafka/dead_letters.ts";
import { applyChanges, type ContributionCodec, type VersionedChange } from "./apply.ts";
import { packChunks } from "./chunks.ts";
import type { LiveMetrics } from "./metrics.ts";
import { BadRecordError } from "../../util/errors.ts";
import { log } from "../../util/log.ts";
import { forEachConcurrently } from "../../util/pool.ts";

const MAX_CONFLICT_ROUNDS = 10;

/** What a batch needs besides its messages. */
export interface BatchContext {
  pipeline: string;
  store: DynamoStore;
  group: Group<bigint>;
  codec: ContributionCodec;
  format: CdcFormat;
  /** Handoff cluster time T0; changes certainly before it are covered by the scan. */
  handoffTime?: ClusterTime;
  deadLetters: DeadLetterSink;
  metrics: LiveMetrics;
  concurrency: number;
  /** Keeps the consumer's group membership alive during long batches. */
  heartbeat: () => Promise<void>;
  signal?: AbortSignal;
}

/** Applies a batch; resolves when its effects and dead letters are durable. */
export async function applyBatch(
  ctx: BatchContext,
  messages: readonly CdcMessage[],
): Promise<void> {
  const byRecord = new Map<string, VersionedChange[]>();
  const origin = new Map<string, CdcMessage>();
  for (const message of messages) {
    const change = decode(ctx, message);
    if (change === undefined) continue;
    origin.set(change.where, message);
    const list = byRecord.get(change.change.orderKey) ?? [];
    list.push(change);
    byRecord.set(change.change.orderKey, list);
  }

  let pending = [...byRecord.keys()];
  for (let round = 0; pending.length > 0; round++) {
    if (round >= MAX_CONFLICT_ROUNDS) {
      throw new Error(
        `Ledger entries kept changing under ${pending.length} records; is another writer running?`,
      );
    }
    const current = await readLedgerEntries(ctx.store, ctx.pipeline, pending, {
      concurrency: ctx.concurrency,
      signal: ctx.signal,
    });
    const writes: LedgerWrite[] = [];
    for (const record of pending) {
      const outcome = applyChanges(
        record,
        current.get(record),
        byRecord.get(record)!,
        ctx.codec,
        ctx.handoffTime,
      );
      if (round === 0) {
        ctx.metrics.stale.inc({}, outcome.stale);
        ctx.metrics.skippedBeforeHandoff.inc({}, outcome.covered);
        for (const { where, error } of outcome.rejected) deadLetter(ctx, origin.get(where)!, error);
      }
      if (outcome.next) writes.push({ previous: current.get(record), next: outcome.next });
    }
    pending = await commitChunks(ctx, writes);
    if (pending.length > 0) ctx.metrics.conflicts.inc({}, 1);
  }
  await ctx.deadLetters.flush();
}

function decode(ctx: BatchContext, message: CdcMessage): VersionedChange | undefined {
  try {
    const decoded = decodeCdcMessage(message, { format: ctx.format });
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
    deadLetter(ctx, message, error);
    return undefined;
  }
}

function deadLetter(ctx: BatchContext, message: CdcMessage, error: BadRecordError): void {
  ctx.metrics.deadLettered.inc();
  log("warn", "dead-lettering message", { where: error.where, reason: error.reason });
  ctx.deadLetters.add(message, error.reason);
}

/** Commits chunks with bounded concurrency; returns records whose chunk conflicted. */
async function commitChunks(ctx: BatchContext, writes: LedgerWrite[]): Promise<string[]> {
  const chunks = packChunks(writes, ctx.group);
  const conflicted: string[] = [];
  await forEachConcurrently(chunks, ctx.concurrency, async (chunk) => {
    try {
      await commitLedger(ctx.store, ctx.pipeline, chunk.writes, chunk.deltas, ctx.signal);
    } catch (error) {
      if (!(error instanceof LedgerConflictError)) throw error;
      conflicted.push(...chunk.writes.map((w) => w.next.record));
    }
    await ctx.heartbeat();
  });
  return conflicted;
}
