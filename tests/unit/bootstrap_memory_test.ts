/**
 * The bootstrap runtime against the in-memory store and an in-memory snapshot source (a
 * stand-in for MongoDB, which tests/integration/bootstrap_test.ts uses for real).
 */
import assert from "node:assert/strict";
import { Long } from "bson";
import { orderTotals } from "../../src/app/orderstats.ts";
import { type ClusterTime, packTimestamp } from "../../src/pipeline/change.ts";
import { runBootstrap, StateConflictError } from "../../src/runtimes/bootstrap.ts";
import type {
  ResumePoint,
  ScanOptions,
  SnapshotDocument,
  SnapshotSource,
} from "../../src/sources/mongo/snapshot.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { runSegmentedBootstrap, SegmentPlanError } from "../../src/runtimes/segmented.ts";
import { bootstrapVersion } from "../../src/state/version.ts";

const T0: ClusterTime = packTimestamp(1741186978, 3);

/** Documents in memory, scanned in the given order. */
class MemorySource implements SnapshotSource {
  readonly namespace = "shop.orders";
  constructor(private readonly documents: Record<string, unknown>[]) {}
  resumePoint(): Promise<ResumePoint> {
    return Promise.resolve({ token: { _data: "82" }, clusterTime: T0 });
  }
  estimatedCount(): Promise<number> {
    return Promise.resolve(this.documents.length);
  }
  /** Numeric `_id`s only: cuts are their decimal text. */
  splitPoints(segments: number): Promise<string[]> {
    const ids = this.documents.map((d) => Number(d._id)).sort((a, b) => a - b);
    const step = ids.length / segments;
    const cuts = Array.from({ length: segments - 1 }, (_, k) => ids[Math.ceil((k + 1) * step)]);
    return Promise.resolve(cuts.filter((cut) => cut !== undefined).map(String));
  }
  async *scan({ range }: ScanOptions = { batchSize: 1 }): AsyncGenerator<SnapshotDocument> {
    const from = Number(range?.from ?? -Infinity);
    const to = Number(range?.to ?? Infinity);
    for (const document of this.documents) {
      if (!(Number(document._id) >= from && Number(document._id) < to)) continue;
      yield await Promise.resolve({ document, where: `${this.namespace} _id=${document._id}` });
    }
  }
}

const ORDERS = [
  { _id: 1, customer_id: "a", amount: Long.fromString("9223372036854775000") },
  { _id: 2, customer_id: "a", amount: 7 },
  { _id: 3, customer_id: 42, amount: 5 },
  { _id: 4, customer_id: "b", amount: "12" },
];

async function bootstrap(store: MemoryStore, options: { force?: boolean } = {}) {
  const badRecordsFile = await Deno.makeTempFile({ prefix: "bad-records-" });
  try {
    const summary = await runBootstrap({
      pipeline: orderTotals("orders", store),
      source: new MemorySource(ORDERS),
      batchSize: 2,
      badRecordsFile,
      ...options,
    });
    return { summary, badRecords: await Deno.readTextFile(badRecordsFile) };
  } finally {
    await Deno.remove(badRecordsFile);
  }
}

Deno.test("runBootstrap() writes exact totals, the ledger and a complete handoff", async () => {
  await using store = new MemoryStore();
  const { summary, badRecords } = await bootstrap(store);
  assert.deepEqual(
    { documents: summary.documents, keys: summary.keys, bad: summary.badRecords },
    { documents: 4, keys: 2, bad: 1 },
  );
  const [bad] = badRecords.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual([bad.where, bad.reason], [
    "shop.orders _id=4",
    'amount "12" is not an exact integer',
  ]);
  const totals = new Map<string, bigint>();
  for await (const row of store.totals("orders")) totals.set(row.key, row.total);
  assert.deepEqual(totals, new Map([["a", 9223372036854775007n], ["n:42", 5n]]));
  const ledger = await store.readLedger("orders", ["n:1", "n:4"]);
  assert.deepEqual([...ledger.keys()], ["n:1"]);
  assert.equal(ledger.get("n:1")?.version, bootstrapVersion(T0));
  const handoff = await store.readHandoff("orders");
  assert.equal(handoff?.status, "complete");
  assert.equal(handoff?.clusterTime, T0);
  assert.equal(handoff?.runId, summary.runId);
});

Deno.test("runBootstrap() refuses to rebuild over live state unless forced, and starts clean", async () => {
  await using store = new MemoryStore();
  await bootstrap(store);
  const handoff = (await store.readHandoff("orders"))!;
  await store.putHandoff({ ...handoff, status: "live", liveSince: "2026-01-01T00:00:00Z" });
  await assert.rejects(() => bootstrap(store), StateConflictError);
  const { summary } = await bootstrap(store, { force: true });
  assert.equal(summary.clearedItems, 3 + 2, "three ledger entries and two totals");
  assert.equal((await store.readHandoff("orders"))?.status, "complete");
});

Deno.test("runSegmentedBootstrap(): segments run one by one, one handoff by the last, exact totals", async () => {
  await using store = new MemoryStore();
  const options = {
    pipeline: orderTotals("orders", store),
    source: new MemorySource(ORDERS),
    batchSize: 2,
    badRecordsFile: "/dev/null",
    segments: 3,
  };
  const first = await runSegmentedBootstrap({ ...options, run: [2] });
  assert.equal(first.handoff, false);
  assert.equal((await store.readHandoff("orders"))?.status, "running");
  await assert.rejects(
    () => runSegmentedBootstrap({ ...options, segments: 4, run: [0] }),
    SegmentPlanError,
  );
  assert.equal((await runSegmentedBootstrap({ ...options, run: [0] })).handoff, false);
  const last = await runSegmentedBootstrap({ ...options, run: [1] });
  assert.deepEqual([last.handoff, last.planDocuments, last.keys], [true, 4, 2]);
  const handoff = await store.readHandoff("orders");
  assert.deepEqual([handoff?.status, handoff?.runId, handoff?.clusterTime], [
    "complete",
    first.runId,
    T0,
  ]);
  const totals = new Map<string, bigint>();
  for await (const row of store.totals("orders")) totals.set(row.key, row.total);
  assert.deepEqual(totals, new Map([["a", 9223372036854775007n], ["n:42", 5n]]));
});

Deno.test("runSegmentedBootstrap(): a failing segment stops its siblings; the re-run resumes exactly", async () => {
  await using store = new MemoryStore();
  const options = {
    pipeline: orderTotals("orders", store),
    batchSize: 2,
    badRecordsFile: "/dev/null",
    segments: 3,
    run: [0, 1, 2],
  };
  class FailingSource extends MemorySource {
    override async *scan(scan?: ScanOptions): AsyncGenerator<SnapshotDocument> {
      for await (const item of super.scan(scan)) {
        if (item.document._id === 3) throw new Error("the cursor died");
        yield item;
      }
    }
  }
  await assert.rejects(
    () => runSegmentedBootstrap({ ...options, source: new FailingSource(ORDERS) }),
    /the cursor died/,
  );
  const rows = await store.segments.read("orders", 3);
  assert.equal(rows[1]?.status, "failed", "the failing segment");
  assert.ok(rows.every((row) => row?.status !== "running"), "no segment left claimed");
  assert.equal((await store.readHandoff("orders"))?.status, "running", "no handoff");

  const rerun = await runSegmentedBootstrap({ ...options, source: new MemorySource(ORDERS) });
  assert.equal(rerun.handoff, true);
  const totals = new Map<string, bigint>();
  for await (const row of store.totals("orders")) totals.set(row.key, row.total);
  assert.deepEqual(totals, new Map([["a", 9223372036854775007n], ["n:42", 5n]]));
});
