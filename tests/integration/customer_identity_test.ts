/**
 * Customer identity as MongoDB's `$group` sees it, through bootstrap and live alike:
 * `"42"` and `42` are two customers; `42`, `Long(42)` and `42.0` are one.
 */
import assert from "node:assert/strict";
import { Double, Int32, Long } from "mongodb";
import {
  type LiveWorker,
  mongoTotals,
  orderstatsOk,
  stackFlags,
  storedTotals,
} from "../../devstack/lib/scenario.ts";
import { assertTotals, LIVE_TEST_OPTIONS, relayedScenario, startWorker } from "../support/live.ts";

Deno.test({
  name: 'bootstrap and live keep "42" and 42 apart and 42, Long(42), 42.0 together',
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using scene = await relayedScenario("custid", 1);
    const { s, orders } = scene;
    let worker: LiveWorker | undefined;
    try {
      await orders.insertMany([
        { _id: 1 as never, customer_id: "42", amount: 1 },
        { _id: 2 as never, customer_id: new Int32(42), amount: 10 },
        { _id: 3 as never, customer_id: Long.fromNumber(42), amount: 100 },
        { _id: 4 as never, customer_id: new Double(42), amount: 1000 },
      ]);
      // MongoDB's own grouping is the bar: two customers.
      assert.equal((await mongoTotals(orders)).size, 2);
      await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
      assert.deepEqual(await storedTotals(s), new Map([["42", 1n], ["n:42", 1110n]]));

      worker = startWorker(s);
      await orders.insertMany([
        { _id: 5 as never, customer_id: new Double(42), amount: 20000 },
        { _id: 6 as never, customer_id: "42", amount: 300000 },
      ]);
      await orders.updateOne({ _id: 1 as never }, { $set: { customer_id: Long.fromNumber(42) } });
      await orders.updateOne({ _id: 2 as never }, { $set: { customer_id: "42" } });
      await assertTotals(s, () => Promise.resolve(new Map([["42", 300010n], ["n:42", 21101n]])));

      const printed = await orderstatsOk(["--mode=totals", ...stackFlags(s)]);
      assert.deepEqual(
        printed.stdout.trim().split("\n").sort(),
        ['{"customer_id":"42","total":"300010"}', '{"customer_id":42,"total":"21101"}'],
      );
      const one = await orderstatsOk(["--mode=totals", ...stackFlags(s), "--customer=n:42"]);
      assert.equal(one.stdout.trim(), '{"customer_id":42,"total":"21101"}');
    } finally {
      await worker?.stop("SIGTERM");
    }
  },
});
