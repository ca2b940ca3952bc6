/**
 * The audit runtime: compares every key's total in the store with the source's own
 * aggregate (MongoDB's `$group`), while live mode keeps applying changes.
 *
 * A difference seen once may be a change live has not applied yet, so it counts only if
 * it persists: differing keys are read again on both sides (source first, then store, so
 * the store has had at least as long to catch up) until they agree or `settleMs` runs
 * out. What still differs is drift; rejected orders that may explain it are attached.
 *
 * @module
 */
import type { TotalsReader } from "../serve/api.ts";
import type { GroupSum } from "../../sources/mongo/group_sums.ts";
import { BadRecordError, OrderstatsError } from "../../util/errors.ts";
import { log } from "../../util/log.ts";
import { forEachConcurrently } from "../../util/pool.ts";
import { Progress } from "../../util/progress.ts";
import { RateLimiter } from "../../util/rate.ts";
import { sleep } from "../../util/retry.ts";

/** Totals still differ from the source after re-checks (exit code 7). */
export class AuditDriftError extends OrderstatsError {
  constructor(drifted: number, compared: number) {
    super(
      "DRIFT",
      `${drifted} of ${compared} customers' totals differ from MongoDB's $group ` +
        "after re-checks (the summary line on stdout lists them)",
    );
  }
}

/** How many drifted (and unkeyed) entries the summary lists. */
export const LISTED = 10;
const MAX_PAGE = 1000;

/** An order the pipeline rejects, listed as a possible reason for a difference. */
export interface RejectedOrder {
  id: string;
  reason: string;
  /** True when bootstrap's bad-records file lists it. */
  inBadRecordsFile: boolean;
}

/** The source side of an audit. */
export interface AuditReference {
  /** `$group` rows: all of them, or those of these keys. */
  sums(keys?: readonly string[]): Promise<GroupSum[]>;
  /** The pipeline's key for a group id; throws {@link BadRecordError} when it has none. */
  keyOf(id: unknown): string;
  /** Orders of `key` the pipeline rejects. */
  rejectedOrders(key: string): Promise<RejectedOrder[]>;
  /** How a group id reads in the summary. */
  describe(id: unknown): string;
}

/** Options for {@link runAudit}. */
export interface AuditOptions {
  pipeline: string;
  store: TotalsReader;
  reference: AuditReference;
  /** Audit only this key. */
  key?: string;
  /** DynamoDB items read per second at most. */
  readsPerSecond: number;
  /** How long differing keys are re-read before they count as drift (ms). */
  settleMs: number;
  signal?: AbortSignal;
}

/** One key whose totals differ for good. */
export interface Drift {
  customer: string;
  dynamodb: string;
  mongodb: string;
  rejectedOrders: RejectedOrder[];
}

/** What the audit found (the summary line). */
export interface AuditSummary {
  pipeline: string;
  compared: number;
  matched: number;
  drifted: number;
  /** Keys that differed at first and agreed on a re-read (changes in flight). */
  settledOnRecheck: number;
  recheckRounds: number;
  /** The first {@link LISTED} drifted keys. */
  drift: Drift[];
  /** `$group` rows whose id the pipeline cannot key (its orders are rejected). */
  unkeyed: number;
  unkeyedGroups: { customer: string; mongodb: string; reason: string }[];
  seconds: number;
}

type Figures = Map<string, { store?: string; source?: string }>;

/** Runs an audit to the end; see the module comment. */
export async function runAudit(options: AuditOptions): Promise<AuditSummary> {
  const { reference, signal } = options;
  const started = performance.now();
  const limiter = new RateLimiter(options.readsPerSecond);
  const figures: Figures = new Map();
  const unkeyed: AuditSummary["unkeyedGroups"] = [];

  const only = options.key === undefined ? undefined : [options.key];
  const groups = await reference.sums(only);
  for (const [key, total] of keyed(groups, reference, unkeyed)) figures.set(key, { source: total });
  log("info", "audit: MongoDB $group read", { groups: groups.length, unkeyed: unkeyed.length });
  await readStore(options, limiter, figures);

  // The bound starts after the first pass, however long reading every total took, and
  // every difference gets at least one re-read.
  const initial = differing(figures);
  let pending = initial;
  let rounds = 0;
  const deadline = performance.now() + options.settleMs;
  for (
    let wait = 500;
    pending.length > 0 && (rounds === 0 || performance.now() < deadline);
    rounds++
  ) {
    log("info", "audit: re-reading differing customers", {
      customers: pending.length,
      round: rounds + 1,
    });
    await sleep(Math.min(wait, Math.max(0, deadline - performance.now())), signal);
    wait = Math.min(wait * 2, 5000);
    await recheck(options, limiter, figures, pending);
    pending = differing(figures, pending);
  }

  const drift: Drift[] = [];
  for (const key of pending.slice(0, LISTED)) {
    const { store = "0", source = "0" } = figures.get(key)!;
    drift.push({
      customer: key,
      dynamodb: store,
      mongodb: source,
      rejectedOrders: await reference.rejectedOrders(key),
    });
  }
  return {
    pipeline: options.pipeline,
    compared: figures.size,
    matched: figures.size - pending.length,
    drifted: pending.length,
    settledOnRecheck: initial.length - pending.length,
    recheckRounds: rounds,
    drift,
    unkeyed: unkeyed.length,
    unkeyedGroups: unkeyed.slice(0, LISTED),
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** Group rows by pipeline key (several ids may share one); unkeyable ids go to `unkeyed`. */
function keyed(
  groups: GroupSum[],
  reference: AuditReference,
  unkeyed?: AuditSummary["unkeyedGroups"],
): Map<string, string> {
  const totals = new Map<string, string>();
  for (const { id, total } of groups) {
    let key: string;
    try {
      key = reference.keyOf(id);
    } catch (error) {
      if (!(error instanceof BadRecordError)) throw error;
      unkeyed?.push({ customer: reference.describe(id), mongodb: total, reason: error.reason });
      continue;
    }
    const other = totals.get(key);
    totals.set(key, other === undefined ? total : addTotals(other, total));
  }
  return totals;
}

/** Exact sum of two `$sum` figures; a fraction stays visibly unequal to any int64. */
function addTotals(a: string, b: string): string {
  const integer = /^-?\d+$/;
  return integer.test(a) && integer.test(b) ? (BigInt(a) + BigInt(b)).toString() : `${a}+${b}`;
}

async function readStore(options: AuditOptions, limiter: RateLimiter, figures: Figures) {
  const { store, pipeline, key, signal } = options;
  if (key !== undefined) {
    await limiter.take(1, signal);
    const row = await store.total(pipeline, key);
    if (row !== undefined) figures.set(key, { ...figures.get(key), store: row.total.toString() });
    return;
  }
  const progress = new Progress({ label: "audit: DynamoDB totals", total: 0 });
  const limit = Math.max(1, Math.min(MAX_PAGE, options.readsPerSecond));
  let after: string | undefined;
  do {
    await limiter.take(limit, signal);
    const page = await store.totalsPage(pipeline, { limit, after });
    for (const row of page.rows) {
      figures.set(row.key, { ...figures.get(row.key), store: row.total.toString() });
    }
    progress.tick(page.rows.length);
    after = page.next;
  } while (after !== undefined);
  progress.finish();
}

async function recheck(
  options: AuditOptions,
  limiter: RateLimiter,
  figures: Figures,
  keys: string[],
): Promise<void> {
  const { store, pipeline, reference, signal } = options;
  const source = keyed(await reference.sums(keys), reference);
  await forEachConcurrently(keys, 8, async (key) => {
    await limiter.take(1, signal);
    const row = await store.total(pipeline, key);
    figures.set(key, { store: row?.total.toString(), source: source.get(key) });
  });
}

/** Keys whose two figures differ (absent counts as 0), among `keys` or all. */
function differing(figures: Figures, keys: Iterable<string> = figures.keys()): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const { store = "0", source = "0" } = figures.get(key)!;
    if (store !== source) out.push(key);
  }
  return out;
}
