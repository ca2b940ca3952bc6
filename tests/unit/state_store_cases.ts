/**
 * The behaviour every `StateStore` must have, as one suite: run by
 * tests/unit/memory_store_test.ts against `MemoryStore` and by
 * tests/integration/dynamo_store_test.ts against `DynamoStore` on DynamoDB Local.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Handoff,
  LedgerConflictError,
  type LedgerEntry,
  type SegmentRow,
  type StateStore,
} from "../../src/state/store.ts";

/** A fresh, empty store; disposing it closes the store and drops what it used. */
export interface StoreFixture extends AsyncDisposable {
  store: StateStore;
}

/** Opens a {@link StoreFixture}. */
export type OpenStore = () => Promise<StoreFixture>;

const P = "p1";
const handoff = (fields: Partial<Handoff> = {}): Handoff => ({
  pipeline: P,
  status: "running",
  runId: "run-1",
  documents: 0,
  keys: 0,
  badRecords: 0,
  startedAt: "2026-01-01T00:00:00.000Z",
  ...fields,
});
const entry = (record: string, version: string, key?: string, value?: bigint): LedgerEntry =>
  key === undefined
    ? { record, present: false, version }
    : { record, present: true, key, value, version };

/** The ledger as plain entries: a store may or may not spell out absent fields. */
async function ledgerOf(store: StateStore, records: string[]): Promise<Map<string, LedgerEntry>> {
  const found = await store.readLedger(P, records);
  return new Map(
    [...found].map(([record, e]) => [
      record,
      Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as LedgerEntry,
    ]),
  );
}

async function totalsOf(store: StateStore, pipeline = P): Promise<Map<string, bigint>> {
  const rows = new Map<string, bigint>();
  for await (const row of store.totals(pipeline)) rows.set(row.key, row.total);
  return rows;
}

/** Registers the suite's tests, named `<name>: …`. */
export function stateStoreCases(name: string, open: OpenStore): void {
  const test = (title: string, fn: (store: StateStore) => Promise<void>) =>
    Deno.test(`${name}: ${title}`, async () => {
      await using fixture = await open();
      await fn(fixture.store);
    });

  test("a handoff row reads back as written, every field", async (store) => {
    assert.equal(await store.readHandoff(P), undefined);
    const full = handoff({
      status: "complete",
      totalsTable: store.totalsTable,
      resumeToken: '{"_data":"82"}',
      clusterTime: (1741186978n << 32n) | 25n,
      operationTime: (1741186978n << 32n) | 26n,
      topic: "cdc.orders",
      topicOffsets: new Map([[0, 5n], [1, 7n]]),
      documents: 12,
      keys: 3,
      badRecords: 1,
      leaseUntil: 1_741_186_999_000,
      completedAt: "2026-01-01T00:01:00.000Z",
      liveSince: "2026-01-01T00:02:00.000Z",
      plan: {
        segments: 3,
        boundaries: ['{"$numberInt":"5"}', '"s1"'],
        cleared: true,
        finisher: "run-2",
        finisherUntil: 1_741_186_998_000,
      },
    });
    assert.equal(await store.putHandoff(full), true);
    assert.deepEqual(await store.readHandoff(P), full);
    assert.equal(await store.readHandoff("other"), undefined);
  });

  test("a handoff write with a run id needs a row of that run", async (store) => {
    assert.equal(await store.putHandoff(handoff(), { runId: "run-1" }), false, "no row yet");
    assert.equal(await store.putHandoff(handoff()), true);
    assert.equal(await store.putHandoff(handoff({ runId: "run-2" }), { runId: "run-9" }), false);
    assert.equal((await store.readHandoff(P))?.runId, "run-1");
    const done = handoff({ status: "complete" });
    assert.equal(await store.putHandoff(done, { runId: "run-1" }), true);
    assert.equal((await store.readHandoff(P))?.status, "complete");
  });

  test("a handoff write with a status needs a row in that status", async (store) => {
    assert.equal(await store.putHandoff(handoff(), { status: "running" }), false, "no row yet");
    assert.equal(await store.putHandoff(handoff()), true);
    const done = handoff({ status: "complete" });
    assert.equal(await store.putHandoff(done, { runId: "run-1", status: "live" }), false);
    assert.equal(await store.putHandoff(done, { runId: "run-1", status: "running" }), true);
    assert.equal((await store.readHandoff(P))?.status, "complete");
  });

  test("a claim takes an absent, finished or stale row, never a fresh claim or live unforced", async (store) => {
    const now = 1_000_000;
    const claim = (runId: string, overLive = false) =>
      store.claimPipeline(handoff({ runId, leaseUntil: now + 30 }), {
        overLive,
        staleBefore: now - 30,
      });
    assert.equal(await claim("run-1"), true, "no row");
    assert.equal(await claim("run-2"), false, "run-1's lease is fresh");
    assert.equal(await store.renewClaim(P, "run-2", now + 60), false, "run-2 holds nothing");
    assert.equal(await store.renewClaim(P, "run-1", now + 60), true);
    assert.equal((await store.readHandoff(P))?.leaseUntil, now + 60);
    await store.putHandoff(handoff({ runId: "run-1", leaseUntil: now - 31 }));
    assert.equal(await claim("run-3"), true, "run-1's lease ended a lease ago: it crashed");
    assert.equal(await store.renewClaim(P, "run-1", now + 90), false, "run-1 lost it");
    for (const status of ["complete", "failed"] as const) {
      await store.putHandoff(handoff({ status, runId: "run-3" }));
      assert.equal(await claim(`after-${status}`), true, status);
    }
    await store.putHandoff(handoff({ status: "live", runId: "run-4" }));
    assert.equal(await claim("run-5"), false, "live needs --force");
    assert.equal(await claim("run-5", true), true, "forced over live");
    assert.equal((await store.readHandoff(P))?.runId, "run-5");
  });

  test("commitLedger() writes entries and total deltas", async (store) => {
    await store.commitLedger(P, [
      { next: entry("n:1", "01", "a", 5n) },
      { next: entry("n:2", "01", "b", 9223372036854775807n) },
    ], new Map([["a", 5n], ["b", 9223372036854775807n]]));
    await store.commitLedger(P, [
      { previous: entry("n:1", "01", "a", 5n), next: entry("n:1", "02", "b", 7n) },
    ], new Map([["a", -5n], ["b", 7n]]));
    assert.deepEqual(
      await ledgerOf(store, ["n:1", "n:2", "n:3"]),
      new Map([
        ["n:1", entry("n:1", "02", "b", 7n)],
        ["n:2", entry("n:2", "01", "b", 9223372036854775807n)],
      ]),
    );
    assert.deepEqual(
      await totalsOf(store),
      new Map([["a", 0n], ["b", 9223372036854775814n]]),
    );
    assert.deepEqual(await totalsOf(store, "other"), new Map());
  });

  test("commitLedger() records deletes and skips zero deltas", async (store) => {
    await store.commitLedger(P, [{ next: entry("n:1", "01") }], new Map([["z", 0n]]));
    assert.deepEqual(await ledgerOf(store, ["n:1"]), new Map([["n:1", entry("n:1", "01")]]));
    assert.deepEqual(await totalsOf(store), new Map(), "no total row for a zero delta");
    await store.commitLedger(P, [], new Map());
  });

  test("commitLedger() is conditional on the entries read, and all or nothing", async (store) => {
    await store.commitLedger(P, [{ next: entry("n:1", "05", "a", 1n) }], new Map([["a", 1n]]));
    const stale = [
      { next: entry("n:2", "01", "b", 2n) },
      { previous: entry("n:1", "04", "a", 1n), next: entry("n:1", "06", "a", 3n) },
    ];
    await assert.rejects(
      () => store.commitLedger(P, stale, new Map([["a", 2n], ["b", 2n]])),
      LedgerConflictError,
    );
    const exists = [{ next: entry("n:1", "07", "c", 1n) }];
    await assert.rejects(
      () => store.commitLedger(P, exists, new Map([["c", 1n]])),
      LedgerConflictError,
      "a write expecting no entry fails over an existing one",
    );
    assert.deepEqual(
      await ledgerOf(store, ["n:1", "n:2"]),
      new Map([
        ["n:1", entry("n:1", "05", "a", 1n)],
      ]),
    );
    assert.deepEqual(await totalsOf(store), new Map([["a", 1n]]));
  });

  test("commitLedger() refuses more actions than maxCommitActions", async (store) => {
    const writes = Array.from(
      { length: store.maxCommitActions + 1 },
      (_, i) => ({ next: entry(`n:${i}`, "01") }),
    );
    await assert.rejects(() => store.commitLedger(P, writes, new Map()), RangeError);
    assert.deepEqual(await store.readLedger(P, ["n:0"]), new Map());
  });

  test("readLedger() reads many records at once", async (store) => {
    const writer = store.bulkWriter(P);
    for (let i = 0; i < 230; i++) await writer.putLedger(entry(`n:${i}`, "b", `c${i % 7}`, 1n));
    await writer.flush();
    const records = Array.from({ length: 240 }, (_, i) => `n:${i}`);
    const found = await store.readLedger(P, records, { concurrency: 2 });
    assert.equal(found.size, 230);
    assert.deepEqual(found.get("n:229"), entry("n:229", "b", "c5", 1n));
  });

  test("a bulk writer's puts are there after flush; clearPipeline() removes only them", async (store) => {
    const writer = store.bulkWriter(P);
    for (let i = 0; i < 30; i++) await writer.putLedger(entry(`n:${i}`, "b", "a", 1n));
    await writer.putTotal({ key: "a", total: 30n }, "2026-01-01T00:00:00.000Z");
    await writer.flush();
    const other = store.bulkWriter("other");
    await other.putTotal({ key: "a", total: 1n }, "2026-01-01T00:00:00.000Z");
    await other.flush();
    await store.putHandoff(handoff());

    assert.deepEqual(await totalsOf(store), new Map([["a", 30n]]));
    assert.equal((await store.total(P, "a"))?.total, 30n);
    await other.putTotal({ key: "b", total: 2n }, "2026-01-01T00:00:00.000Z");
    await other.putTotal({ key: "c", total: 3n }, "2026-01-01T00:00:00.000Z");
    await other.flush();
    const paged: string[] = [];
    let after: string | undefined;
    do {
      const page = await store.totalsPage("other", { limit: 2, after });
      assert.ok(page.rows.length <= 2);
      paged.push(...page.rows.map((row) => row.key));
      after = page.next;
    } while (after !== undefined);
    assert.deepEqual(paged.toSorted(), ["a", "b", "c"], "every total on exactly one page");
    assert.equal(await store.total(P, "missing"), undefined);

    assert.equal(await store.clearPipeline(P), 31);
    assert.deepEqual(await totalsOf(store), new Map());
    assert.deepEqual(await store.readLedger(P, ["n:0"]), new Map());
    assert.deepEqual(
      await totalsOf(store, "other"),
      new Map([["a", 1n], ["b", 2n], ["c", 3n]]),
    );
    assert.equal((await store.readHandoff(P))?.runId, "run-1", "the handoff row stays");
  });

  test("a segment is claimed by one attempt, renewed and finished only by it", async (store) => {
    const row = (attempt: string, fields: Partial<SegmentRow> = {}): SegmentRow => ({
      pipeline: P,
      planId: "plan-1",
      index: 1,
      attempt,
      status: "running",
      leaseUntil: 1_000,
      documents: 0,
      badRecords: 0,
      startedAt: "2026-01-01T00:00:00.000Z",
      ...fields,
    });
    const segments = store.segments;
    assert.equal(await segments.claim(row("a1"), 0), true, "no row yet");
    assert.equal(await segments.claim(row("a2"), 999), false, "its lease holds");
    assert.equal(await segments.renew(row("a2"), 5_000, 7), false, "not a2's");
    assert.equal(await segments.renew(row("a1"), 2_000, 7), true);
    assert.equal(await segments.claim(row("a2"), 1_999), false, "renewed until 2000");
    assert.equal(await segments.claim(row("a2"), 2_001), true, "a stale lease is taken over");
    assert.equal(await segments.finish(row("a1"), new Map([["x", 1n]])), false, "lost it");
    const totals = new Map([["c1", 9223372036854775807n], ["n:42", -5n]]);
    assert.equal(await segments.finish(row("a2", { documents: 3 }), totals), true);
    const [none, done] = await segments.read(P, 2);
    assert.equal(none, undefined);
    assert.deepEqual([done?.status, done?.attempt, done?.documents], ["done", "a2", 3]);
    assert.deepEqual(await segments.totals(done!), totals);
    const other = row("a2", { index: 0 });
    assert.equal(await segments.claim(other, 0), true, "one attempt, a second segment");
    assert.equal(await segments.finish(other, new Map([["c1", 1n]])), true);
    assert.deepEqual(await segments.totals(done!), totals, "each segment's totals apart");
    assert.equal(await segments.claim(row("a3"), 9_999), false, "a done row of the plan stays");
    assert.equal(await segments.claim(row("b1", { planId: "plan-2" }), 0), true, "a new plan");
    assert.equal(await segments.finish(row("b1", { planId: "plan-2" })), true, "failed");
    assert.equal((await segments.read(P, 2))[1]?.status, "failed");
    assert.equal(await segments.claim(row("b2", { planId: "plan-2" }), 0), true, "a failed row");
  });

  test("a segment's ledger entries are cleared apart; finish and cleared need the running plan", async (store) => {
    const writer = store.bulkWriter(P);
    await writer.putLedger({ ...entry("n:1", "b", "a", 1n), segment: 0 });
    await writer.putLedger({ ...entry("n:2", "b", "a", 2n), segment: 1 });
    await writer.putLedger(entry("n:3", "b", "a", 3n));
    await writer.flush();
    assert.equal(await store.segments.clearLedger(P, [1]), 1);
    assert.deepEqual([...(await store.readLedger(P, ["n:1", "n:2", "n:3"])).keys()].sort(), [
      "n:1",
      "n:3",
    ]);

    const plan = { segments: 2, boundaries: ['"m"'], cleared: false };
    assert.equal(await store.segments.markCleared(P, "run-1"), false, "no plan yet");
    assert.equal(await store.putHandoff(handoff({ plan })), true);
    assert.equal(await store.segments.markCleared(P, "run-9"), false, "another plan");
    assert.equal(await store.segments.markCleared(P, "run-1"), true);
    assert.equal((await store.readHandoff(P))?.plan?.cleared, true);
    assert.equal(await store.segments.claimFinish(P, "run-1", "a1", 2_000, 0), true);
    assert.equal(await store.segments.claimFinish(P, "run-1", "a2", 2_000, 1_999), false);
    assert.equal(await store.segments.claimFinish(P, "run-1", "a1", 3_000, 0), true, "renewed");
    assert.equal(await store.segments.claimFinish(P, "run-1", "a2", 4_000, 3_001), true, "stale");
    const done = handoff({ status: "complete", plan: { ...plan, cleared: true } });
    assert.equal(await store.putHandoff(done, { runId: "run-1", finisher: "a1" }), false);
    assert.equal(await store.putHandoff(done, { runId: "run-1", finisher: "a2" }), true);
    assert.equal(await store.segments.claimFinish(P, "run-1", "a3", 9_000, 9_000), false, "done");
  });
}
