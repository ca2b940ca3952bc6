import assert from "node:assert/strict";
import { readAhead } from "../../src/util/read_ahead.ts";

async function* numbers(n: number, log: string[], failAt?: number) {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new Error(`source failed at ${i}`);
    log.push(`produce ${i}`);
    await Promise.resolve();
    yield i;
  }
}

Deno.test("readAhead() yields everything in order", async () => {
  const out: number[] = [];
  for await (const n of readAhead(numbers(100, []), 7)) out.push(n);
  assert.deepEqual(out, Array.from({ length: 100 }, (_, i) => i));
});

Deno.test("readAhead() runs at most `limit` items ahead of the consumer", async () => {
  const log: string[] = [];
  for await (const n of readAhead(numbers(20, log), 3)) {
    await new Promise((r) => setTimeout(r, 1));
    const produced = log.length;
    assert.ok(produced - (n + 1) <= 3 + 1, `produced ${produced} while consuming ${n}`);
  }
});

Deno.test("readAhead() passes the source's error on after the items before it", async () => {
  const out: number[] = [];
  await assert.rejects(async () => {
    for await (const n of readAhead(numbers(10, [], 4), 2)) out.push(n);
  }, /source failed at 4/);
  assert.deepEqual(out, [0, 1, 2, 3]);
});

Deno.test("readAhead() closes the source when the consumer stops early", async () => {
  let closed = false;
  async function* source() {
    try {
      for (let i = 0;; i++) yield i;
    } finally {
      closed = true;
    }
  }
  for await (const n of readAhead(source(), 4)) if (n === 5) break;
  assert.ok(closed);
});

Deno.test("readAhead() rejects a limit that is not a positive integer", async () => {
  for (const limit of [0, -1, 1.5, NaN]) {
    await assert.rejects(() => readAhead(numbers(1, []), limit).next(), RangeError);
  }
});
