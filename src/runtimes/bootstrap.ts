/**
 * The bootstrap runtime: runs a pipeline over a snapshot of the source and leaves exact
 * state plus a handoff row that tells live mode where the snapshot's history ends.
 *
 * Order of work, and why:
 * 1. Capture the change-stream position T0 before scanning: anything after T0 reaches
 *    live mode through CDC, so a change made during the scan is applied either by the
 *    scan, by live, or both — and the ledger makes "both" harmless.
 * 2. Claim the pipeline (the first write; see `claim.ts`): refused while another
 *    bootstrap holds it, and over state a live worker advanced unless forced. Every
 *    later write stops the moment the claim is lost.
 * 3. Clear the pipeline's old state, so a re-run cannot double count.
 * 4. Scan: every record's ledger entry is written (version "<T0>/b"); values fold per
 *    key in memory, so memory grows with distinct keys, not with records.
 * 5. Write absolute totals, then the handoff row (status complete, conditional on the
 *    claim) — last, so live never starts from a half-written state. A run that fails
 *    marks the row `failed`, so the next run may claim it at once.
 *
 * @module
 */
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { Handoff, StateStore } from "../state/store.ts";
import type { IdRange, ResumePoint, SnapshotSource } from "../sources/mongo/snapshot.ts";
import { NoChangeStreamsError } from "../sources/mongo/snapshot.ts";
import { readDocument } from "../pipeline/fields.ts";
import { timestampParts } from "../pipeline/change.ts";
import { bootstrapVersion } from "../state/version.ts";
import { BadRecordFile } from "./bad_records.ts";
import { BootstrapClaim, StateConflictError } from "./claim.ts";
import { BadRecordError, type BadRecordKind } from "../util/errors.ts";
import { Progress } from "../util/progress.ts";
import { readAhead } from "../util/read_ahead.ts";
import { errorFields, log } from "../util/log.ts";

export { StateConflictError };

/** Options for {@link runBootstrap}. */
export interface BootstrapOptions {
  pipeline: Pipeline<bigint, StateStore>;
  source: SnapshotSource;
  batchSize: number;
  badRecordsFile: string;
  /** Rebuild even over state a live worker advanced. */
  force?: boolean;
  /** Lease of the bootstrap's claim on the pipeline (see `claim.ts`). @default 30 s */
  leaseMs?: number;
  /** Bootstrap without a change-stream position when the server has none. */
  allowNoChangeStreams?: boolean;
  /**
   * Records a CDC topic's end offsets in the handoff row, read just before the resume token
   * (raw JSON topics, whose messages carry no position: live starts there).
   */
  topicEnd?: { topic: string; offsets: () => Promise<Map<number, bigint>> };
  signal?: AbortSignal;
  /** Unique id of this run. @default a random UUID */
  runId?: string;
}

/** What a finished bootstrap reports (the summary line). */
export interface BootstrapSummary {
  pipeline: string;
  runId: string;
  resumeToken?: string;
  clusterTime?: { t: number; i: number };
  documents: number;
  keys: number;
  badRecords: number;
  /** {@link badRecords} by kind (`bad_key_field`, `bad_value_field`, `bad_fields`, `bad_id`). */
  badRecordKinds: Partial<Record<BadRecordKind, number>>;
  clearedItems: number;
  seconds: number;
}

/** Runs a bootstrap to completion; see the module comment for the steps. */
export async function runBootstrap(options: BootstrapOptions): Promise<BootstrapSummary> {
  const started = performance.now();
  await refuseOverLegacyLive(options);
  // Before the token: every message below these offsets was written before T0.
  const topicOffsets = await options.topicEnd?.offsets();
  const point = await capturePoint(options.source, options.allowNoChangeStreams ?? false);
  const handoff = runningHandoff(options, point, topicOffsets);
  using claim = await BootstrapClaim.acquire(options.pipeline.store, handoff, {
    force: options.force ?? false,
    leaseMs: options.leaseMs,
  });
  log("info", "bootstrap started", {
    pipeline: handoff.pipeline,
    runId: handoff.runId,
    source: options.source.namespace,
    resumeToken: handoff.resumeToken,
  });
  const signal = options.signal === undefined
    ? claim.signal
    : AbortSignal.any([options.signal, claim.signal]);
  try {
    const clearedItems = await clearPrevious(options.pipeline, signal);
    const folded = await scanWhole({ ...options, signal }, bootstrapVersion(point?.clusterTime));
    await writeTotals(options.pipeline, folded.totals, signal);
    signal.throwIfAborted();
    await complete(options.pipeline.store, handoff, folded);
    return {
      pipeline: handoff.pipeline,
      runId: handoff.runId,
      resumeToken: handoff.resumeToken,
      clusterTime: point === undefined ? undefined : timestampParts(point.clusterTime),
      documents: folded.documents,
      keys: folded.totals.size,
      badRecords: folded.badRecords,
      badRecordKinds: folded.badRecordKinds,
      clearedItems,
      seconds: Math.round((performance.now() - started) / 10) / 100,
    };
  } catch (error) {
    // A lost claim is the reason, whatever the write that noticed it threw.
    if (claim.signal.aborted) throw claim.signal.reason;
    await release(options.pipeline.store, handoff);
    throw error;
  }
}

/**
 * A handoff row in the totals table means the old one-table layout: rebuilding is the way
 * to the current one, under the same rule as any rebuild over live state.
 */
export async function refuseOverLegacyLive({ pipeline, force }: BootstrapOptions): Promise<void> {
  const legacy = await pipeline.store.readLegacyHandoff(pipeline.name);
  if (legacy?.status === "live" && !force) {
    throw new StateConflictError(
      `Refusing to bootstrap pipeline "${pipeline.name}": live mode has applied changes ` +
        `since ${legacy.liveSince}. Stop the live workers and pass --force to rebuild.`,
    );
  }
}

/** The row this run claims the pipeline with: `running`, at the position T0. */
export function runningHandoff(
  options: BootstrapOptions,
  point: ResumePoint | undefined,
  topicOffsets: Handoff["topicOffsets"],
): Handoff {
  return {
    pipeline: options.pipeline.name,
    status: "running",
    runId: options.runId ?? crypto.randomUUID(),
    totalsTable: options.pipeline.store.totalsTable,
    resumeToken: point && JSON.stringify(point.token),
    clusterTime: point?.clusterTime,
    operationTime: point?.operationTime,
    topic: options.topicEnd?.topic,
    topicOffsets,
    documents: 0,
    keys: 0,
    badRecords: 0,
    startedAt: new Date().toISOString(),
  };
}

/** The pipeline's old totals and ledger go, so a re-run cannot double count. */
export async function clearPrevious(
  pipeline: Pipeline<bigint, StateStore>,
  signal: AbortSignal,
): Promise<number> {
  const cleared = await pipeline.store.clearPipeline(pipeline.name, signal);
  if (cleared > 0) log("info", "cleared previous state", { items: cleared });
  return cleared;
}

/** The handoff row marked complete, if this run still holds the claim. */
async function complete(store: StateStore, handoff: Handoff, folded: ScanResult): Promise<void> {
  const done: Handoff = {
    ...handoff,
    status: "complete",
    documents: folded.documents,
    keys: folded.totals.size,
    badRecords: folded.badRecords,
    completedAt: new Date().toISOString(),
  };
  if (!await store.putHandoff(done, { runId: handoff.runId, status: "running" })) {
    throw new StateConflictError(
      `Bootstrap ${handoff.runId} lost its claim on pipeline "${handoff.pipeline}" before ` +
        "completing; the run that holds the claim rebuilds the state",
    );
  }
}

/** What the scan saw. */
export interface ScanResult {
  totals: Map<string, bigint>;
  documents: number;
  badRecords: number;
}

/** Marks the claim `failed` so the next run may take it at once; a failure here is logged. */
async function release(store: StateStore, handoff: Handoff): Promise<void> {
  try {
    const failed: Handoff = { ...handoff, status: "failed" };
    await store.putHandoff(failed, { runId: handoff.runId, status: "running" });
  } catch (error) {
    log("warn", "could not mark the bootstrap failed", errorFields(error));
  }
}

/** Writes absolute totals with the bulk writer. */
export async function writeTotals(
  pipeline: Pipeline<bigint, StateStore>,
  totals: Map<string, bigint>,
  signal: AbortSignal,
): Promise<void> {
  const writer = pipeline.store.bulkWriter(pipeline.name, signal);
  const now = new Date().toISOString();
  for (const [key, total] of totals) await writer.putTotal({ key, total }, now);
  await writer.flush();
}

/** T0, or undefined when the server has no change streams and that is allowed. */
export async function capturePoint(
  source: SnapshotSource,
  allowNoChangeStreams: boolean,
): Promise<ResumePoint | undefined> {
  try {
    return await source.resumePoint();
  } catch (error) {
    if (!(error instanceof NoChangeStreamsError) || !allowNoChangeStreams) throw error;
    log("warn", "no change streams: bootstrapping without a handoff position", {
      source: source.namespace,
    });
    return undefined;
  }
}

/** The whole collection into the ledger, with its progress and bad-records file. */
async function scanWhole(
  options: BootstrapOptions,
  version: string,
): Promise<ScanResult & Pick<BootstrapSummary, "badRecordKinds">> {
  const badRecords = new BadRecordFile(options.badRecordsFile);
  const progress = new Progress({
    label: "bootstrap scan",
    total: await options.source.estimatedCount(),
  });
  try {
    const folded = await scanIntoLedger({ ...options, version, badRecords, progress });
    progress.finish();
    return { ...folded, badRecordKinds: badRecords.byKind };
  } finally {
    badRecords.close();
  }
}

/** One scan: of the whole source, or of one segment's range. */
export interface ScanStep {
  pipeline: Pipeline<bigint, StateStore>;
  source: SnapshotSource;
  batchSize: number;
  signal?: AbortSignal;
  /** The ledger version of every entry written (`<T0>/b`). */
  version: string;
  badRecords: BadRecordFile;
  /** Ticked per document; shared by the segments a process scans. */
  progress: Pick<Progress, "tick">;
  range?: IdRange;
  /** The segment scanned, recorded in its ledger entries. */
  segment?: number;
}

/**
 * Writes every scanned record's ledger entry and folds values per key in memory, so memory
 * grows with distinct keys, not with records.
 */
export async function scanIntoLedger(step: ScanStep): Promise<ScanResult> {
  const { pipeline, source, signal, version, segment, badRecords, progress } = step;
  const { monoid, fields, store } = pipeline;
  const totals = new Map<string, bigint>();
  const writer = store.bulkWriter(pipeline.name, signal);
  let [documents, bad] = [0, 0];
  // Two cursor batches ahead: the next batch arrives while the writers drain this one.
  const scan = readAhead(
    source.scan({ batchSize: step.batchSize, signal, range: step.range }),
    2 * step.batchSize,
  );
  for await (const { document, where } of scan) {
    documents++;
    progress.tick();
    let record;
    try {
      record = readDocument(fields, document, where);
    } catch (error) {
      if (!(error instanceof BadRecordError)) throw error;
      bad++;
      await badRecords.write(error, document);
      continue;
    }
    const { id, key, value } = record;
    totals.set(key, monoid.combine(totals.get(key) ?? monoid.empty, value));
    await writer.putLedger({ record: id, present: true, key, value, version, segment });
  }
  await writer.flush();
  return { totals, documents, badRecords: bad };
}
