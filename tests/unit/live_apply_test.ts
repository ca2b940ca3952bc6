import assert from "node:assert/strict";
import { addDeltas, applyChanges, type VersionedChange } from "../../src/runtimes/live/apply.ts";
import { packChunks } from "../../src/runtimes/live/chunks.ts";
import { orderFields } from "../../src/app/orderstats.ts";
import { contributionCodec } from "../../src/pipeline/contribution.ts";
import { Sum } from "../../src/pipeline/monoid.ts";
import type { LedgerEntry, LedgerWrite } from "../../src/state/store.ts";
import { MAX_TRANSACTION_ITEMS } from "../../src/state/dynamodb/ledger.ts";
import { BadRecordError } from "../../src/util/errors.ts";
import { packTimestamp, type Position } from "../../src/pipeline/change.ts";
import { bootstrapVersion, type ChangeOrigin } from "../../src/state/version.ts";

const orderContribution = contributionCodec(orderFields);
/** A change at `offset` of partition 0 (or `partition`), with `position`. */
const at = (offset: string, position: Position = {}, partition = 0): ChangeOrigin => ({
  position,
  partition,
  offset: BigInt(offset),
});
const upsert = (
  offset: string,
  customer: string,
  amount: number,
  origin = at(offset),
): VersionedChange => ({
  change: {
    kind: "upsert",
    orderKey: "n:1",
    document: { _id: 1, customer_id: customer, amount },
    position: origin.position,
  },
  origin,
  where: `t[${origin.partition}]@${offset}`,
});
const del = (offset: string, origin = at(offset)): VersionedChange => ({
  change: { kind: "delete", orderKey: "n:1", position: origin.position },
  origin,
  where: `t[${origin.partition}]@${offset}`,
});
const patch = (offset: string, fields: Record<string, unknown>, removed: string[] = []) => ({
  change: {
    kind: "patch" as const,
    orderKey: "n:1",
    patch: { set: fields, removed },
    position: {},
  },
  origin: at(offset),
  where: `t[0]@${offset}`,
});
/** A ledger entry; `version` is an offset of partition 0 or a whole `ver` (with a `/`). */
const entry = (version: string, key?: string, value?: bigint): LedgerEntry => {
  const ver = version.includes("/") ? version : `~/0@${version}`;
  return key === undefined
    ? { record: "n:1", present: false, version: ver }
    : { record: "n:1", present: true, key, value, version: ver };
};

Deno.test("applyChanges() sets the contribution of the newest change", () => {
  const out = applyChanges(
    "n:1",
    entry("1"),
    [upsert("2", "a", 5), upsert("3", "b", 7)],
    orderContribution,
  );
  assert.deepEqual(out.next, entry("3", "b", 7n));
  assert.equal(out.stale, 0);
});

Deno.test("applyChanges() ignores changes not newer than the ledger (duplicates, replays)", () => {
  const current = entry("5", "a", 10n);
  const out = applyChanges(
    "n:1",
    current,
    [upsert("3", "z", 1), upsert("5", "z", 1)],
    orderContribution,
  );
  assert.equal(out.next, undefined);
  assert.equal(out.stale, 2);
});

Deno.test("applyChanges() records deletes as entries that block older re-inserts", () => {
  const deleted = applyChanges("n:1", entry("1", "a", 10n), [del("4")], orderContribution).next!;
  assert.deepEqual(deleted, entry("4"));
  const replay = applyChanges("n:1", deleted, [upsert("2", "a", 10)], orderContribution);
  assert.equal(replay.next, undefined);
});

Deno.test("applyChanges() applies partial updates on top of the ledger", () => {
  const out = applyChanges("n:1", entry("1", "a", 10n), [
    patch("2", { amount: 12 }),
    patch("3", { customer_id: "b" }),
  ], orderContribution);
  assert.deepEqual(out.next, entry("3", "b", 12n));
});

/** An entry for an order that exists but contributes nothing: only its valid fields are kept. */
const invalid = (version: string, fields: { key?: string; value?: bigint }): LedgerEntry => ({
  record: "n:1",
  present: true,
  ...fields,
  version: entry(version).version,
});

Deno.test("applyChanges() rejects what it cannot apply and keeps going", () => {
  const out = applyChanges("n:1", undefined, [
    patch("2", { amount: 3 }), // no known state yet
    upsert("3", "a", 1.5), // not an integer
    upsert("4", "a", 4),
    patch("5", {}, ["amount"]), // removes the amount
  ], orderContribution);
  // Before, the entry kept `a, 4` after the amount was removed: the removed amount stayed
  // in the total. An order whose amount is gone contributes nothing from then on.
  assert.deepEqual(out.next, invalid("5", { key: "a" }));
  assert.deepEqual(out.rejected.map((r) => r.where), ["t[0]@2", "t[0]@3", "t[0]@5"]);
  assert.ok(out.rejected.every((r) => r.error instanceof BadRecordError));
});

Deno.test("applyChanges() applies a change at exactly the handoff time T0, skips only < T0", () => {
  const t0 = packTimestamp(100, 5);
  const scanned = entry(bootstrapVersion(t0), "a", 10n);
  const before = upsert("7", "a", 1, at("7", { clusterTime: packTimestamp(100, 4) }));
  const atT0 = upsert("8", "a", 11, at("8", { clusterTime: t0 }));
  const out = applyChanges("n:1", scanned, [before, atT0], orderContribution);
  assert.equal(out.covered, 1);
  assert.equal(out.next?.value, 11n);
  // No entry: the scan saw no such order, and the same boundary holds.
  const fresh = applyChanges("n:1", undefined, [before, atT0], orderContribution, t0);
  assert.equal(fresh.covered, 1);
  assert.equal(fresh.next?.value, 11n);
});

Deno.test("applyChanges() never skips wall-time or unpositioned changes at the handoff", () => {
  const t0 = packTimestamp(100, 5);
  const scanned = entry(bootstrapVersion(t0), "a", 10n);
  for (const position of [{ wallMs: 50_000 }, {}]) {
    const out = applyChanges(
      "n:1",
      scanned,
      [upsert("3", "b", 2, at("3", position))],
      orderContribution,
    );
    assert.equal(out.next?.key, "b", JSON.stringify(position));
  }
});

Deno.test("applyChanges() follows Kafka order when wall time steps back (Debezium 3.4+)", () => {
  const first = upsert("10", "a", 5, at("10", { wallMs: 1_741_186_978_500 }));
  const stepped = upsert("11", "b", 6, at("11", { wallMs: 1_741_186_970_000 })); // clock set back
  const out = applyChanges("n:1", undefined, [first, stepped], orderContribution);
  assert.equal(out.next?.key, "b");
  const replay = applyChanges("n:1", out.next, [first, stepped], orderContribution);
  assert.equal(replay.stale, 2, "a consumer replay of the partition changes nothing");
});

Deno.test("applyChanges() compares offsets within a partition, never across partitions", () => {
  // Raw JSON: no position. Partition 0 has run far ahead of partition 1.
  const onP0 = upsert("500", "a", 5, at("500", {}, 0));
  const onP1 = upsert("3", "b", 6, at("3", {}, 1));
  const first = applyChanges("n:1", undefined, [onP0], orderContribution).next!;
  const second = applyChanges("n:1", first, [onP1], orderContribution);
  assert.equal(second.next?.key, "b", "a later change on another partition is applied");
  const replay = applyChanges("n:1", second.next, [onP0, onP1], orderContribution);
  assert.equal(replay.stale, 2, "replays of either partition change nothing");
});

Deno.test("applyChanges() refuses a connector's redelivered older slice by exact cluster time", () => {
  const ct = (i: number) => ({ clusterTime: packTimestamp(200, i) });
  const slice = [
    upsert("1", "a", 1, at("1", ct(1))),
    upsert("2", "a", 2, at("2", ct(2))),
    upsert("3", "b", 3, at("3", ct(3))),
  ];
  const applied = applyChanges("n:1", undefined, slice, orderContribution).next!;
  // After a restart the connector sends the slice again, at higher offsets.
  const again = [
    upsert("10", "a", 1, at("10", ct(1))),
    upsert("11", "a", 2, at("11", ct(2))),
  ];
  const out = applyChanges("n:1", applied, again, orderContribution);
  assert.equal(out.next, undefined);
  assert.equal(out.stale, 2);
  // A new event after the redelivered slice is applied.
  const fresh = applyChanges(
    "n:1",
    applied,
    [upsert("12", "c", 9, at("12", ct(4)))],
    orderContribution,
  );
  assert.equal(fresh.next?.key, "c");
});

Deno.test("applyChanges() lets a re-insert follow a tombstone that has no position", () => {
  const ct = (i: number) => ({ clusterTime: packTimestamp(300, i) });
  const inserted = applyChanges(
    "n:1",
    undefined,
    [upsert("1", "a", 5, at("1", ct(1)))],
    orderContribution,
  ).next!;
  const deleted = applyChanges("n:1", inserted, [del("2")], orderContribution).next!;
  assert.equal(deleted.present, false);
  const reinserted = applyChanges(
    "n:1",
    deleted,
    [upsert("3", "a", 7, at("3", ct(9)))],
    orderContribution,
  );
  assert.equal(reinserted.next?.value, 7n);
  // A replay of the first insert stays refused after the tombstone.
  assert.equal(
    applyChanges("n:1", deleted, [upsert("1", "a", 5, at("1", ct(1)))], orderContribution).stale,
    1,
  );
});

Deno.test("applyChanges() after a bootstrap: old tombstones replayed, re-inserts follow them", () => {
  // insert, tombstone, re-insert — all before T0; the scan saw the re-inserted order.
  const t0 = packTimestamp(400, 1);
  const scanned = entry(bootstrapVersion(t0), "a", 7n);
  const history = [
    upsert("0", "a", 5, at("0", { clusterTime: packTimestamp(390, 1) })),
    del("1"),
    upsert("2", "a", 7, at("2", { clusterTime: packTimestamp(395, 1) })),
  ];
  const out = applyChanges("n:1", scanned, history, orderContribution);
  assert.equal(out.next?.present, true);
  assert.equal(out.next?.value, 7n);
});

Deno.test("applyChanges() makes an order that a change invalidates contribute nothing", () => {
  const current = entry("1", "a", 10n);
  const cases: [VersionedChange, LedgerEntry][] = [
    [patch("2", {}, ["amount"]), invalid("2", { key: "a" })],
    [patch("2", { amount: 1.5 }), invalid("2", { key: "a" })],
    [patch("2", { amount: "10" }), invalid("2", { key: "a" })],
    [patch("2", {}, ["customer_id"]), invalid("2", { value: 10n })],
    [patch("2", { customer_id: null }), invalid("2", { value: 10n })],
    [upsert("2", "a", 1.5), invalid("2", { key: "a" })],
    [upsert("2", "", 10), invalid("2", { value: 10n })],
  ];
  for (const [change, expected] of cases) {
    const out = applyChanges("n:1", current, [change], orderContribution);
    assert.deepEqual(out.next, expected, JSON.stringify(change.change));
    assert.equal(out.rejected.length, 1, "the change is still dead-lettered");
    const deltas = new Map<string, bigint>();
    addDeltas(deltas, current, out.next!, Sum);
    assert.deepEqual(deltas, new Map([["a", -10n]]), "the old contribution is retracted");
  }
});

Deno.test("applyChanges() counts an invalid order again once a later change repairs it", () => {
  const out = applyChanges("n:1", entry("1", "a", 10n), [
    patch("2", {}, ["customer_id"]),
    patch("3", { amount: 12 }), // customer still missing: still nothing, still rejected
    patch("4", { customer_id: "b" }),
  ], orderContribution);
  assert.deepEqual(out.next, entry("4", "b", 12n));
  assert.deepEqual(out.rejected.map((r) => r.where), ["t[0]@2", "t[0]@3"]);
  assert.match(out.rejected[1].error.reason, /customer_id/);
  // An older change replayed after the invalidating one stays stale.
  const stale = applyChanges(
    "n:1",
    invalid("2", { key: "a" }),
    [upsert("1", "a", 10)],
    orderContribution,
  );
  assert.equal(stale.next, undefined);
  assert.equal(stale.stale, 1);
});

Deno.test("addDeltas() retracts the old contribution and adds the new one", () => {
  const deltas = new Map<string, bigint>();
  addDeltas(deltas, entry("1", "a", 10n), entry("2", "b", 7n), Sum); // reassignment
  addDeltas(deltas, entry("1", "b", 3n), entry("2", "b", 9n), Sum); // amount change
  addDeltas(deltas, entry("1", "c", 4n), entry("2"), Sum); // delete
  addDeltas(deltas, undefined, entry("2", "c", 1n), Sum); // insert
  assert.deepEqual(deltas, new Map([["a", -10n], ["b", 13n], ["c", -3n]]));
});

Deno.test("packChunks() keeps each transaction within 100 actions, one update per key", () => {
  const writes: LedgerWrite[] = Array.from({ length: 250 }, (_, i) => ({
    next: {
      record: `n:${i}`,
      present: true,
      key: i % 2 === 0 ? "hot" : `c${i}`,
      value: 1n,
      version: "1",
    },
  }));
  const chunks = packChunks(writes, Sum, MAX_TRANSACTION_ITEMS);
  assert.equal(chunks.flatMap((c) => c.writes).length, 250);
  for (const chunk of chunks) assert.ok(chunk.writes.length + chunk.deltas.size <= 100);
  const hot = chunks.reduce((n, c) => n + (c.deltas.get("hot") ?? 0n), 0n);
  assert.equal(hot, 125n);
  // A hot customer alone: ~99 orders share one total update per transaction.
  const single = packChunks(
    Array.from({ length: 300 }, (_, i) => ({
      next: { record: `n:${i}`, present: true, key: "hot", value: 2n, version: "1" },
    })),
    Sum,
    MAX_TRANSACTION_ITEMS,
  );
  assert.equal(single.length, Math.ceil(300 / 99));
});
