import assert from "node:assert/strict";
import { addDeltas, applyChanges, type VersionedChange } from "../../src/runtimes/live/apply.ts";
import { packChunks } from "../../src/runtimes/live/chunks.ts";
import { orderContribution } from "../../src/app/orderstats.ts";
import { Sum } from "../../src/pipeline/monoid.ts";
import type { LedgerEntry } from "../../src/state/dynamodb/items.ts";
import type { LedgerWrite } from "../../src/state/dynamodb/ledger.ts";
import { BadRecordError } from "../../src/util/errors.ts";

const upsert = (version: string, customer: string, amount: number): VersionedChange => ({
  change: {
    kind: "upsert",
    orderKey: "n:1",
    document: { _id: 1, customer_id: customer, amount },
    position: {},
  },
  version,
  where: `t[0]@${version}`,
});
const del = (version: string): VersionedChange => ({
  change: { kind: "delete", orderKey: "n:1", position: {} },
  version,
  where: `t[0]@${version}`,
});
const patch = (version: string, fields: Record<string, unknown>, removed: string[] = []) => ({
  change: { kind: "patch" as const, orderKey: "n:1", patch: { ...fields, removed }, position: {} },
  version,
  where: `t[0]@${version}`,
});
const entry = (version: string, key?: string, value?: bigint): LedgerEntry =>
  key === undefined
    ? { record: "n:1", present: false, version }
    : { record: "n:1", present: true, key, value, version };

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

Deno.test("applyChanges() rejects what it cannot apply and keeps going", () => {
  const out = applyChanges("n:1", undefined, [
    patch("2", { amount: 3 }), // no known state yet
    upsert("3", "a", 1.5), // not an integer
    upsert("4", "a", 4),
    patch("5", {}, ["amount"]), // removes the amount
  ], orderContribution);
  assert.deepEqual(out.next, entry("4", "a", 4n));
  assert.deepEqual(out.rejected.map((r) => r.where), ["t[0]@2", "t[0]@3", "t[0]@5"]);
  assert.ok(out.rejected.every((r) => r.error instanceof BadRecordError));
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
  const chunks = packChunks(writes, Sum);
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
  );
  assert.equal(single.length, Math.ceil(300 / 99));
});
