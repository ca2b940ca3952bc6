/**
 * A segmented bootstrap: the collection split into `_id` ranges (segments) scanned
 * concurrently, by one process (`--parallel N`) or by several on any machines
 * (`--segment i/N`), ending in ONE handoff row whose token predates every segment's scan.
 *
 * Order of work, and why:
 * 1. The first process to start captures T0, cuts the `_id` ranges once and claims the
 *    pipeline with the **plan** in the handoff row (`running`: T0, N, boundaries). It clears
 *    the old state, then marks the plan `cleared`. Every other process joins the plan (it
 *    waits until it is cleared) and renews the same claim; so every range is the same for
 *    every process, and every scan starts after T0.
 * 2. Each segment is claimed by one attempt (its `S#` row, with a lease like the pipeline's
 *    claim), scanned into the ledger (entries tagged with the segment), and finished by
 *    storing its per-customer totals and marking its row `done`. A segment whose earlier
 *    attempt died is taken over once that attempt's lease ran out a lease ago; the new
 *    attempt first deletes the ledger entries the dead one wrote (they may hold orders
 *    deleted since), so ledger and totals agree.
 * 3. Whoever finds every segment done claims the finish, sums the segments' totals, writes
 *    them and marks the handoff `complete`: live starts only then.
 *
 * @module
 */
import type { Handoff, SegmentRow } from "../state/store.ts";
import { BootstrapClaim, DEFAULT_LEASE_MS, refusal, StateConflictError } from "./claim.ts";
import {
  type BootstrapOptions,
  capturePoint,
  clearPrevious,
  refuseOverLegacyLive,
  runningHandoff,
  scanIntoLedger,
  type ScanStep,
  writeTotals,
} from "./bootstrap.ts";
import { Lease } from "./lease.ts";
import { BadRecordFile } from "./bad_records.ts";
import { bootstrapVersion } from "../state/version.ts";
import { type BadRecordKind, OrderstatsError } from "../util/errors.ts";
import { Progress } from "../util/progress.ts";
import { errorFields, log } from "../util/log.ts";
import { sleep } from "../util/retry.ts";

/** `--segment`/`--parallel` disagree with the plan a running segmented bootstrap stored. */
export class SegmentPlanError extends OrderstatsError {
  constructor(message: string) {
    super("BAD_CONFIG", message);
  }
}

/** Options for {@link runSegmentedBootstrap}. */
export interface SegmentedOptions extends BootstrapOptions {
  /** Number of segments of the plan. */
  segments: number;
  /** The segments this process scans (all of them for `--parallel`). */
  run: readonly number[];
}

/** What one process of a segmented bootstrap reports. */
export interface SegmentedSummary {
  pipeline: string;
  /** The plan's run id (the handoff row's). */
  runId: string;
  /** This process's attempt id. */
  attempt: string;
  segments: number;
  ran: readonly number[];
  /** Documents this process scanned (segments found done already count none). */
  documents: number;
  badRecords: number;
  /** {@link badRecords} by kind, as a plain bootstrap reports them. */
  badRecordKinds: Partial<Record<BadRecordKind, number>>;
  /** Whether this process wrote the handoff (it finished the last segment). */
  handoff: boolean;
  /** With the handoff: documents and keys of the whole plan. */
  planDocuments?: number;
  keys?: number;
  seconds: number;
}

/** Runs this process's segments of the plan; see the module comment for the steps. */
export async function runSegmentedBootstrap(
  options: SegmentedOptions,
): Promise<SegmentedSummary> {
  const started = performance.now();
  await refuseOverLegacyLive(options);
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  using claim = await enterPlan(options, leaseMs);
  const plan = claim.handoff;
  const attempt = options.runId ?? crypto.randomUUID();
  const signal = AbortSignal.any([claim.signal, ...(options.signal ? [options.signal] : [])]);
  log("info", "bootstrap segments started", {
    pipeline: plan.pipeline,
    runId: plan.runId,
    attempt,
    segments: options.segments,
    run: options.run,
    resumeToken: plan.resumeToken,
  });
  const estimated = await options.source.estimatedCount();
  using _watch = watchPlan(options, plan, estimated, leaseMs);
  const scanned = await scanSegments(options, { plan, attempt, leaseMs, signal, estimated });
  const finished = await finishIfLast(options, { plan, attempt, leaseMs, signal });
  return {
    pipeline: plan.pipeline,
    runId: plan.runId,
    attempt,
    segments: options.segments,
    ran: options.run,
    documents: scanned.documents,
    badRecords: scanned.badRecords,
    badRecordKinds: scanned.badRecordKinds,
    handoff: finished !== undefined,
    planDocuments: finished?.documents,
    keys: finished?.keys,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** What every step of one process shares. */
interface Run {
  plan: Handoff;
  attempt: string;
  leaseMs: number;
  signal: AbortSignal;
}

/**
 * Joins the running plan with this many segments (waiting until it is cleared), or
 * creates one. Throws {@link SegmentPlanError} when a live plan has another number of
 * segments, {@link StateConflictError} when another bootstrap holds the pipeline.
 */
async function enterPlan(options: SegmentedOptions, leaseMs: number): Promise<BootstrapClaim> {
  const { pipeline: { store, name }, segments } = options;
  for (let waited = false;; options.signal?.throwIfAborted()) {
    const row = await store.readHandoff(name);
    const plan = row?.status === "running" ? row.plan : undefined;
    const stale = (row?.leaseUntil ?? 0) < Date.now() - leaseMs;
    if (plan !== undefined && plan.segments !== segments && !stale) {
      throw new SegmentPlanError(
        `Pipeline "${name}" is being bootstrapped in ${plan.segments} segments (run ` +
          `${row!.runId}), not ${segments}: use --segment i/${plan.segments} ` +
          `(BOOTSTRAP_SEGMENT) or --parallel ${plan.segments} (BOOTSTRAP_PARALLEL), or wait ` +
          "for that run to finish",
      );
    }
    if (plan?.segments === segments && plan.cleared) {
      const joined = await BootstrapClaim.join(store, row!, leaseMs);
      if (joined !== undefined) return joined;
      continue; // The plan moved on meanwhile: look again.
    }
    if (plan?.segments === segments && !stale) {
      if (!waited) log("info", "waiting for the plan's first process to clear old state");
      waited = true;
      await sleep(500, options.signal);
      continue;
    }
    const created = await createPlan(options, leaseMs);
    if (created !== undefined) return created;
  }
}

/**
 * Takes T0, cuts the ranges and claims the pipeline with the plan, clears the old state and
 * marks the plan cleared. Undefined when another process created a plan first (join it).
 */
async function createPlan(
  options: SegmentedOptions,
  leaseMs: number,
): Promise<BootstrapClaim | undefined> {
  const { pipeline, source, segments } = options;
  // Before the token: every message below these offsets was written before T0.
  const topicOffsets = await options.topicEnd?.offsets();
  const point = await capturePoint(source, options.allowNoChangeStreams ?? false);
  const boundaries = await source.splitPoints(segments, options.signal);
  const handoff: Handoff = {
    ...runningHandoff(options, point, topicOffsets),
    plan: { segments, boundaries, cleared: false },
  };
  let claim: BootstrapClaim;
  try {
    claim = await BootstrapClaim.acquire(pipeline.store, handoff, {
      force: options.force ?? false,
      leaseMs,
    });
  } catch (error) {
    const now = await pipeline.store.readHandoff(pipeline.name);
    if (error instanceof StateConflictError && now?.status === "running" && now.plan) return;
    throw error;
  }
  try {
    log("info", "bootstrap plan created", { runId: handoff.runId, segments, boundaries });
    await clearPrevious(pipeline, claim.signal);
    if (!await pipeline.store.segments.markCleared(pipeline.name, handoff.runId)) {
      throw claim.signal.reason ?? refusal(pipeline.name, undefined, leaseMs);
    }
    return claim;
  } catch (error) {
    claim[Symbol.dispose]();
    throw error;
  }
}

/** What scanning segments read. */
interface Scanned {
  documents: number;
  badRecords: number;
}

/** What this process's segments read, with its bad records by kind. */
type ScannedSegments = Scanned & Pick<SegmentedSummary, "badRecordKinds">;

/** Scans this process's segments concurrently, with one progress across them. */
async function scanSegments(
  options: SegmentedOptions,
  run: Run & { estimated: number },
): Promise<ScannedSegments> {
  const badRecords = new BadRecordFile(options.badRecordsFile);
  const progress = new Progress({
    label: `bootstrap scan, segments ${options.run.join(",")} of ${options.segments}`,
    total: Math.ceil(run.estimated * options.run.length / options.segments),
  });
  // The first segment to fail stops its siblings, which mark their rows failed before the
  // process exits: a re-run can take them at once instead of waiting out their leases.
  const stop = new AbortController();
  const signal = AbortSignal.any([run.signal, stop.signal]);
  try {
    const settled = await Promise.allSettled(options.run.map(async (index) => {
      try {
        return await scanSegment(options, { ...run, signal }, index, badRecords, progress);
      } catch (error) {
        stop.abort(error);
        throw error;
      }
    }));
    const failed = settled.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    const results = settled.map((result) => (result as PromiseFulfilledResult<Scanned>).value);
    progress.finish();
    return {
      documents: results.reduce((sum, r) => sum + r.documents, 0),
      badRecords: results.reduce((sum, r) => sum + r.badRecords, 0),
      badRecordKinds: badRecords.byKind,
    };
  } finally {
    badRecords.close();
  }
}

/** Claims one segment (waiting out a dead attempt's lease) and scans it, unless done. */
async function scanSegment(
  options: SegmentedOptions,
  run: Run,
  index: number,
  badRecords: BadRecordFile,
  progress: Progress,
): Promise<Scanned> {
  const segments = options.pipeline.store.segments;
  const { plan, attempt, leaseMs, signal } = run;
  for (let announced = false;; signal.throwIfAborted()) {
    const previous = (await segments.read(plan.pipeline, options.segments))[index];
    const ours = previous?.planId === plan.runId;
    if (ours && previous.status === "done") return { documents: 0, badRecords: 0 };
    const takenAt = Date.now();
    const row: SegmentRow = {
      pipeline: plan.pipeline,
      planId: plan.runId,
      index,
      attempt,
      status: "running",
      leaseUntil: takenAt + leaseMs,
      documents: 0,
      badRecords: 0,
      startedAt: new Date().toISOString(),
    };
    if (await segments.claim(row, takenAt - leaseMs)) {
      return await scanClaimed(options, run, row, { retaken: ours, badRecords, progress });
    }
    const holder = (await segments.read(plan.pipeline, options.segments))[index];
    const freeAt = (holder?.leaseUntil ?? 0) + leaseMs;
    if (!announced) {
      log("info", "segment held by another attempt; waiting for it to finish or its lease", {
        segment: index,
        attempt: holder?.attempt,
        takeoverFrom: new Date(freeAt).toISOString(),
      });
    }
    announced = true;
    await sleep(Math.min(Math.max(freeAt - Date.now(), 200), leaseMs / 3), signal);
  }
}

/** Scans a claimed segment into the ledger and stores its totals. */
async function scanClaimed(
  options: SegmentedOptions,
  run: Run,
  row: SegmentRow,
  { retaken, badRecords, progress }: Pick<ScanStep, "badRecords" | "progress"> & {
    /** An earlier attempt of this plan held the segment: its ledger entries go first. */
    retaken: boolean;
  },
): Promise<Scanned> {
  const segments = options.pipeline.store.segments;
  let documents = 0;
  using lease = new Lease({
    renew: (until) => segments.renew(row, until, documents),
    leaseMs: run.leaseMs,
    takenAt: row.leaseUntil! - run.leaseMs,
    lost: (how) =>
      new StateConflictError(
        `Segment ${row.index} of pipeline "${row.pipeline}" (attempt ${row.attempt}) stopped: ` +
          (how === "taken" ? "another attempt took it over" : "its lease was not renewed"),
      ),
  });
  const signal = AbortSignal.any([run.signal, lease.signal]);
  try {
    if (retaken) {
      const items = await segments.clearLedger(row.pipeline, [row.index], signal);
      log("info", "deleted a dead attempt's ledger entries", { segment: row.index, items });
    }
    const boundaries = run.plan.plan!.boundaries;
    // Fewer cuts than segments (a small collection): the last segments are empty.
    const folded = row.index > boundaries.length
      ? { totals: new Map<string, bigint>(), documents: 0, badRecords: 0 }
      : await scanIntoLedger({
        ...options,
        signal,
        version: bootstrapVersion(run.plan.clusterTime),
        badRecords,
        progress: { tick: () => (documents++, progress.tick()) },
        range: { from: boundaries[row.index - 1], to: boundaries[row.index] },
        segment: row.index,
      });
    signal.throwIfAborted();
    const done = { ...row, documents: folded.documents, badRecords: folded.badRecords };
    if (!await segments.finish(done, folded.totals)) throw lease.signal.reason ?? lostSegment(row);
    return folded;
  } catch (error) {
    if (lease.signal.aborted) throw lease.signal.reason;
    await segments.finish(row).catch((failure) =>
      log("warn", "could not mark the segment failed", errorFields(failure))
    );
    throw error;
  }
}

function lostSegment(row: SegmentRow): StateConflictError {
  return new StateConflictError(
    `Segment ${row.index} of pipeline "${row.pipeline}" was taken over before attempt ` +
      `${row.attempt} finished it`,
  );
}

/**
 * When every segment is done: claims the finish, sums the segments' totals, writes them
 * and marks the handoff complete. Undefined when segments are left, or another process
 * finishes.
 */
async function finishIfLast(
  options: SegmentedOptions,
  { plan, attempt, leaseMs, signal }: Run,
): Promise<Handoff | undefined> {
  const { store, name } = options.pipeline;
  const rows = await store.segments.read(name, options.segments);
  const left = rows.flatMap((r, i) => r?.planId === plan.runId && r.status === "done" ? [] : [i]);
  if (left.length > 0) {
    log("info", "this process's segments are done; the last segment writes the handoff", {
      segmentsLeft: left,
    });
    return undefined;
  }
  const takenAt = Date.now();
  const claimFinish = (until: number, staleBefore: number) =>
    store.segments.claimFinish(name, plan.runId, attempt, until, staleBefore);
  if (!await claimFinish(takenAt + leaseMs, takenAt - leaseMs)) {
    log("info", "another process is writing the handoff", { pipeline: name });
    return undefined;
  }
  using finisher = new Lease({
    renew: (until) => claimFinish(until, 0),
    leaseMs,
    takenAt,
    lost: () => new StateConflictError(`Another process took over finishing "${name}"`),
  });
  const finishing = AbortSignal.any([signal, finisher.signal]);
  const totals = new Map<string, bigint>();
  const { monoid } = options.pipeline;
  for (const row of rows) {
    for (const [key, total] of await store.segments.totals(row!)) {
      totals.set(key, monoid.combine(totals.get(key) ?? monoid.empty, total));
    }
  }
  await writeTotals(options.pipeline, totals, finishing);
  finishing.throwIfAborted();
  const done: Handoff = {
    ...plan,
    status: "complete",
    leaseUntil: undefined,
    plan: { ...plan.plan!, cleared: true, finisher: undefined, finisherUntil: undefined },
    documents: rows.reduce((sum, r) => sum + r!.documents, 0),
    badRecords: rows.reduce((sum, r) => sum + r!.badRecords, 0),
    keys: totals.size,
    completedAt: new Date().toISOString(),
  };
  if (!await store.putHandoff(done, { runId: plan.runId, status: "running", finisher: attempt })) {
    throw new StateConflictError(`Bootstrap plan ${plan.runId} of "${name}" lost its claim`);
  }
  log("info", "bootstrap handoff written", { runId: plan.runId, documents: done.documents });
  return done;
}

/**
 * Logs the whole plan's progress (every process's segments, from the counts their rows
 * carry, updated with each lease renewal) every third of a lease: documents, rate, ETA.
 */
function watchPlan(
  options: SegmentedOptions,
  plan: Handoff,
  estimated: number,
  leaseMs: number,
): Disposable {
  let first: { at: number; documents: number } | undefined;
  const timer = setInterval(async () => {
    try {
      const rows = await options.pipeline.store.segments.read(plan.pipeline, options.segments);
      const mine = rows.filter((r) => r?.planId === plan.runId);
      const documents = mine.reduce((sum, r) => sum + r!.documents, 0);
      // The rate since this process first looked: the plan may have started long ago.
      first ??= { at: Date.now(), documents };
      const perSecond = (documents - first.documents) /
        Math.max((Date.now() - first.at) / 1000, 1e-3);
      log("info", "bootstrap plan progress", {
        segmentsDone: mine.filter((r) => r!.status === "done").length,
        segments: options.segments,
        documents,
        total: estimated,
        perSecond: Math.round(perSecond),
        etaSeconds: Math.ceil(Math.max(estimated - documents, 0) / Math.max(perSecond, 1e-9)),
      });
    } catch (error) {
      log("warn", "could not read the plan's progress", errorFields(error));
    }
  }, leaseMs / 3);
  return { [Symbol.dispose]: () => clearInterval(timer) };
}
