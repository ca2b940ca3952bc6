import assert from "node:assert/strict";
import { forEachConcurrently, forEachExclusive } from "../../src/util/pool.ts";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("forEachExclusive() never runs two items sharing a key, and lets free ones go ahead", async () => {
  const items = [["a"], ["a", "b"], ["c"], ["b"], ["d"], ["a"]];
  const holding = new Set<string>();
  const started: number[] = [];
  await forEachExclusive(
    items.map((keys, i) => ({ keys, i })),
    3,
    (x) => x.keys,
    async ({ keys, i }) => {
      for (const key of keys) {
        assert.ok(!holding.has(key), `item ${i} started while ${key} was held`);
        holding.add(key);
      }
      started.push(i);
      await tick(5);
      for (const key of keys) holding.delete(key);
    },
  );
  assert.deepEqual(started.toSorted(), [0, 1, 2, 3, 4, 5]);
  // Item 1 waits for "a", so 2 and 3 ("c", "b") start before it.
  assert.deepEqual(started.slice(0, 3), [0, 2, 3]);
});

Deno.test("forEachExclusive() starts nothing after a failure and rejects once the rest settled", async () => {
  let running = 0;
  const ran: number[] = [];
  const failed = forEachExclusive([0, 1, 2, 3, 4], 2, () => [], async (i) => {
    running++;
    ran.push(i);
    await tick(i === 0 ? 1 : 20);
    running--;
    if (i === 0) throw new Error("boom");
  });
  await assert.rejects(failed, /boom/);
  assert.equal(running, 0, "nothing still running");
  assert.deepEqual(ran, [0, 1]);
});

Deno.test("forEachConcurrently() turns a synchronous throw into its rejection, and takes no items", async () => {
  const sync = forEachConcurrently([1, 2], 2, (i) => {
    if (i === 1) throw new Error("sync");
    return Promise.resolve();
  });
  await assert.rejects(sync, /sync/);
  let calls = 0;
  await forEachConcurrently([], 4, () => Promise.resolve(void calls++));
  assert.equal(calls, 0);
});

Deno.test("forEachConcurrently() refuses a concurrency below 1 instead of waiting forever", async () => {
  for (const concurrency of [0, -1, Number.NaN]) {
    await assert.rejects(
      forEachConcurrently([1], concurrency, () => Promise.resolve()),
      RangeError,
    );
  }
});
