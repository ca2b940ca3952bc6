/**
 * Live mode's batch and handoff logic against the in-memory store (the same conditional
 * semantics as DynamoDB, see tests/unit/state_store_cases.ts): fast, no services.
 */
import assert from "node:assert/strict";
import { orderFields } from "../../src/app/orderstats.ts";
import { type ClusterTime, packTimestamp } from "../../src/pipeline/change.ts";
import { contributionCodec } from "../../src/pipeline/contribution.ts";
import { fieldNames } from "../../src/pipeline/fields.ts";
import { Sum } from "../../src/pipeline/monoid.ts";
import type { CdcMessage } from "../../src/sources/cdc/mod.ts";
import type { DeadLetter, DeadLetterSink } from "../../src/sources/kafka/dead_letters.ts";
import { applyBatch, type BatchContext } from "../../src/runtimes/live/batch.ts";
import { awaitHandoff, HandoffMissingError } from "../../src/runtimes/live/handoff.ts";
import { LiveMetrics } from "../../src/runtimes/live/metrics.ts";
import { LedgerCache } from "../../src/runtimes/live/ledger_cache.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { bootstrapVersion, formatVersion } from "../../src/state/version.ts";
import type { Handoff, LedgerWrite } from "../../src/state/store.ts";

const P = "orders";
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** A Debezium 2.x event for order `id` at cluster time `(second, offset)`. */
function event(
  offset: number,
  op: "c" | "u" | "d",
  id: number,
  order?: { customer_id: string; amount: unknown },
  second = 1000,
): CdcMessage {
  return {
    topic: "orders.cdc",
    partition: 0,
    offset: String(offset),
    key: encode({ id: String(id) }),
    value: encode({
      op,
      after: order && JSON.stringify({ _id: id, ...order }),
      source: { version: "2.7.0.Final", ts_ms: second * 1000, ord: offset },
    }),
  };
}

/** Dead letters kept in memory, for assertions. */
class CollectedDeadLetters implements DeadLetterSink {
  readonly durable: string[] = [];
  send(letters: readonly DeadLetter[]): Promise<void> {
    this.durable.push(...letters.map(({ message, reason }) => `${message.offset}: ${reason}`));
    return Promise.resolve();
  }
}

function context(store: MemoryStore, handoffTime?: ClusterTime, cache?: LedgerCache) {
  const deadLetters = new CollectedDeadLetters();
  const ctx: BatchContext = {
    pipeline: P,
    store,
    group: Sum,
    codec: contributionCodec(orderFields),
    fields: fieldNames(orderFields),
    format: "debezium",
    handoffTime,
    deadLetters,
    metrics: new LiveMetrics(),
    concurrency: 2,
    cache,
    heartbeat: () => Promise.resolve(),
  };
  return { ctx, deadLetters };
}

async function totals(store: MemoryStore): Promise<Map<string, bigint>> {
  const rows = new Map<string, bigint>();
  for await (const row of store.totals(P)) rows.set(row.key, row.total);
  return rows;
}

Deno.test("applyBatch() keeps totals exact over inserts, a customer move and a delete; a replay changes nothing", async () => {
  await using store = new MemoryStore();
  const { ctx } = context(store);
  const inserts = [
    event(1, "c", 1, { customer_id: "a", amount: 5 }),
    event(2, "c", 2, { customer_id: "a", amount: 7 }),
  ];
  const changes = [event(3, "u", 1, { customer_id: "b", amount: 5 }), event(4, "d", 2)];
  await applyBatch(ctx, inserts);
  assert.deepEqual(await totals(store), new Map([["a", 12n]]));
  await applyBatch(ctx, changes);
  assert.deepEqual(await totals(store), new Map([["a", 0n], ["b", 5n]]));
  await applyBatch(ctx, [...inserts, ...changes]);
  assert.deepEqual(await totals(store), new Map([["a", 0n], ["b", 5n]]));
  assert.equal(ctx.metrics.summary().stale, 4);
});

Deno.test("applyBatch() dead-letters what it cannot apply and skips what the snapshot covers", async () => {
  await using store = new MemoryStore();
  const { ctx, deadLetters } = context(store, packTimestamp(1000, 3));
  await applyBatch(ctx, [
    event(1, "c", 1, { customer_id: "a", amount: 5 }),
    event(2, "c", 2, { customer_id: "a", amount: 7 }),
    event(3, "c", 3, { customer_id: "a", amount: "12" }),
    event(4, "c", 4, { customer_id: "a", amount: 11 }),
  ]);
  assert.deepEqual(await totals(store), new Map([["a", 11n]]));
  assert.equal(ctx.metrics.summary().skippedBeforeHandoff, 2);
  assert.deepEqual(deadLetters.durable, ['3: amount "12" is not an exact integer']);
});

Deno.test("applyBatch() recomputes a commit another writer got in before", async () => {
  let raced = false;
  const store = new (class extends MemoryStore {
    override async commitLedger(
      pipeline: string,
      writes: readonly LedgerWrite[],
      deltas: ReadonlyMap<string, bigint>,
    ): Promise<void> {
      if (!raced) {
        raced = true;
        const version = bootstrapVersion(packTimestamp(999, 0));
        const other = { record: "n:1", present: true, key: "z", value: 1n, version };
        await super.commitLedger(pipeline, [{ next: other }], new Map([["z", 1n]]));
      }
      return super.commitLedger(pipeline, writes, deltas);
    }
  })();
  const { ctx } = context(store);
  await applyBatch(ctx, [event(1, "c", 1, { customer_id: "a", amount: 5 })]);
  assert.deepEqual(await totals(store), new Map([["z", 0n], ["a", 5n]]));
  assert.match(ctx.metrics.render(), /orderstats_ledger_conflicts_total 1/);
  await store.close();
});

/** The worker's ledger reads and cache guesses so far. */
function ledgerCounts(metrics: LiveMetrics) {
  return { reads: metrics.ledgerReads.total(), guesses: metrics.ledgerGuesses.total() };
}

Deno.test("applyBatch() with a cache guesses the entries it wrote instead of reading them", async () => {
  await using store = new MemoryStore();
  const { ctx } = context(store, undefined, new LedgerCache(10));
  await applyBatch(ctx, [
    event(1, "c", 1, { customer_id: "a", amount: 5 }),
    event(2, "c", 2, { customer_id: "a", amount: 7 }),
  ]);
  // Inserts: no entry expected, none read.
  assert.deepEqual(ledgerCounts(ctx.metrics), { reads: 0, guesses: 2 });
  await applyBatch(ctx, [
    event(3, "u", 1, { customer_id: "b", amount: 6 }),
    event(4, "d", 2),
  ]);
  assert.deepEqual(ledgerCounts(ctx.metrics), { reads: 0, guesses: 4 });
  assert.deepEqual(await totals(store), new Map([["a", 0n], ["b", 6n]]));
  assert.equal(ctx.metrics.conflicts.total(), 0);
});

Deno.test("applyBatch() detects a cached entry someone else changed, reads it and stays exact", async () => {
  await using store = new MemoryStore();
  const { ctx } = context(store, undefined, new LedgerCache(10));
  await applyBatch(ctx, [event(1, "c", 1, { customer_id: "a", amount: 5 })]);
  // Another worker applies a later change of order 1 (offset 10) behind this one's back.
  const version = formatVersion({
    kind: "change",
    clusterTime: packTimestamp(1000, 10),
    offsets: new Map([[0, 10n]]),
  });
  const [mine] = (await store.readLedger(P, ["n:1"])).values();
  await store.commitLedger(
    P,
    [{ previous: mine, next: { record: "n:1", present: true, key: "z", value: 3n, version } }],
    new Map([["a", -5n], ["z", 3n]]),
  );
  // Against the stale guess offset 2 is new; against the real entry it is stale.
  await applyBatch(ctx, [event(2, "u", 1, { customer_id: "a", amount: 7 })]);
  assert.deepEqual(await totals(store), new Map([["a", 0n], ["z", 3n]]));
  assert.equal(ctx.metrics.conflicts.total(), 1);
  assert.equal(ctx.metrics.summary().stale, 1);
  assert.deepEqual(ledgerCounts(ctx.metrics), { reads: 1, guesses: 2 });
});

Deno.test("applyBatch() reads an entry when its guess would write nothing (a replay)", async () => {
  await using store = new MemoryStore();
  const { ctx } = context(store, undefined, new LedgerCache(10));
  const batch = [
    event(1, "c", 1, { customer_id: "a", amount: 5 }),
    event(2, "u", 1, { customer_id: "a", amount: 9 }),
  ];
  await applyBatch(ctx, batch);
  await applyBatch(ctx, batch);
  assert.deepEqual(ledgerCounts(ctx.metrics), { reads: 1, guesses: 2 });
  assert.equal(ctx.metrics.summary().stale, 2);
  assert.deepEqual(await totals(store), new Map([["a", 9n]]));
});

Deno.test("applyBatch() with a cache writes an inserted order without reading its entry", async () => {
  await using store = new MemoryStore();
  const { ctx } = context(store, undefined, new LedgerCache(10));
  await applyBatch(ctx, [
    event(1, "c", 1, { customer_id: "a", amount: 5 }),
    event(2, "c", 2, { customer_id: "a", amount: 7 }),
    event(3, "u", 2, { customer_id: "b", amount: 7 }),
  ]);
  assert.deepEqual(ledgerCounts(ctx.metrics), { reads: 0, guesses: 2 });
  assert.deepEqual(await totals(store), new Map([["a", 5n], ["b", 7n]]));
  assert.equal(ctx.metrics.conflicts.total(), 0);
});

Deno.test("applyBatch() reads an inserted order that has an entry (a replay, a re-insert) and stays exact", async () => {
  await using store = new MemoryStore();
  const first = context(store, undefined, new LedgerCache(10));
  await applyBatch(first.ctx, [
    event(1, "c", 1, { customer_id: "a", amount: 5 }),
    event(2, "d", 1),
    event(3, "c", 2, { customer_id: "a", amount: 7 }),
  ]);
  // A restarted worker (empty cache) gets the batch again, then a re-insert of order 1.
  const { ctx } = context(store, undefined, new LedgerCache(10));
  await applyBatch(ctx, [
    event(1, "c", 1, { customer_id: "a", amount: 5 }),
    event(2, "d", 1),
    event(3, "c", 2, { customer_id: "a", amount: 7 }),
    event(4, "c", 1, { customer_id: "b", amount: 4 }),
  ]);
  assert.deepEqual(await totals(store), new Map([["a", 7n], ["b", 4n]]));
  assert.equal(ctx.metrics.summary().stale, 3);
  assert.ok(ctx.metrics.conflicts.total() >= 1);
  assert.equal(ctx.metrics.ledgerReads.total(), 2);
});

Deno.test("applyBatch() without a cache reads every entry, inserts too", async () => {
  await using store = new MemoryStore();
  const { ctx } = context(store, undefined, new LedgerCache(0));
  await applyBatch(ctx, [event(1, "c", 1, { customer_id: "a", amount: 5 })]);
  assert.deepEqual(ledgerCounts(ctx.metrics), { reads: 1, guesses: 0 });
});

Deno.test("LedgerCache keeps the most recently used entries and forgets revoked partitions", () => {
  const entry = (record: string) => ({ record, present: false, version: "v" });
  const cache = new LedgerCache(2);
  cache.remember(0, entry("x"));
  cache.remember(1, entry("y"));
  assert.ok(cache.guess("x"));
  cache.remember(1, entry("z"));
  assert.deepEqual([cache.guess("x"), cache.guess("y")], [entry("x"), undefined]);
  cache.retain(new Set([1]));
  assert.deepEqual([cache.size, cache.guess("z")], [1, entry("z")]);
  cache.forget("z");
  assert.equal(cache.size, 0);
  const none = new LedgerCache(0);
  none.remember(0, entry("x"));
  assert.equal(none.size, 0);
});

const handoff = (status: Handoff["status"]): Handoff => ({
  pipeline: P,
  status,
  runId: "run-1",
  documents: 3,
  keys: 2,
  badRecords: 0,
  startedAt: "2026-01-01T00:00:00.000Z",
});

Deno.test("awaitHandoff() marks a complete handoff live", async () => {
  await using store = new MemoryStore();
  await store.putHandoff(handoff("complete"));
  const live = await awaitHandoff({ store, pipeline: P, wait: false, timeoutMs: 0 });
  assert.equal(live.status, "live");
  assert.ok(live.liveSince);
  assert.deepEqual(await store.readHandoff(P), live);
});

Deno.test("awaitHandoff() without a finished bootstrap fails, or waits for one", async () => {
  await using store = new MemoryStore();
  const options = { store, pipeline: P, wait: false, timeoutMs: 0 };
  await assert.rejects(() => awaitHandoff(options), HandoffMissingError);
  await store.putHandoff(handoff("running"));
  await assert.rejects(
    () => awaitHandoff({ ...options, wait: true, timeoutMs: 30, pollMs: 10 }),
    /bootstrap run-1 still running.*waited/,
  );
  const waiting = awaitHandoff({ ...options, wait: true, timeoutMs: 5_000, pollMs: 10 });
  setTimeout(() => store.putHandoff(handoff("complete")), 30);
  assert.equal((await waiting).status, "live");
});
