import assert from "node:assert/strict";
import { Decimal128, Double, Int32, Long } from "mongodb";
import { sumText } from "../../src/sources/mongo/group_sums.ts";
import { customerIdValues, readKeyText } from "../../src/pipeline/bson_values.ts";
import { auditMetricsText } from "../../src/runtimes/audit/metrics.ts";
import { RateLimiter } from "../../src/util/rate.ts";

Deno.test("sumText() gives $sum results as exact decimal text", () => {
  assert.equal(sumText(new Int32(-7)), "-7");
  assert.equal(sumText(Long.fromString("9223372036854775807")), "9223372036854775807");
  assert.equal(sumText(new Double(42)), "42");
  assert.equal(sumText(new Double(5.5)), "5.5");
  assert.equal(sumText(Decimal128.fromString("0012.000")), "12");
  assert.equal(sumText(Decimal128.fromString("-0.25")), "-0.25");
  assert.equal(sumText(3), "3");
});

Deno.test("customerIdValues() finds every customer_id that readKeyText() keys the same", () => {
  const values = [
    "c42",
    "42",
    "n:42",
    "a/b",
    new Int32(42),
    new Double(42),
    Long.fromString("9223372036854775807"),
    Decimal128.fromString("1E+30"),
  ];
  for (const value of values) {
    const key = readKeyText(value, "customer_id", "test");
    const back = customerIdValues(key);
    assert.equal(back.length, 1, key);
    assert.equal(readKeyText(back[0], "customer_id", "test"), key, `${String(value)} -> ${key}`);
  }
  assert.deepEqual(customerIdValues("n:abc"), []);
});

Deno.test("auditMetricsText() writes every figure as a gauge per pipeline", () => {
  const text = auditMetricsText({
    pipeline: "p",
    compared: 5,
    matched: 4,
    drifted: 1,
    settledOnRecheck: 2,
    recheckRounds: 3,
    drift: [],
    unkeyed: 0,
    unkeyedGroups: [],
    seconds: 1.5,
  }, new Date(1_700_000_000_000));
  for (
    const line of [
      'orderstats_audit_customers{pipeline="p"} 5',
      'orderstats_audit_matched{pipeline="p"} 4',
      'orderstats_audit_drifted{pipeline="p"} 1',
      'orderstats_audit_last_run_timestamp_seconds{pipeline="p"} 1700000000',
    ]
  ) assert.ok(text.split("\n").includes(line), line);
});

Deno.test("RateLimiter spaces work out to the rate", async () => {
  const limiter = new RateLimiter(100);
  const started = performance.now();
  for (let i = 0; i < 5; i++) await limiter.take(10);
  // 50 units at 100/s: the 5th batch may start after 400 ms.
  assert.ok(performance.now() - started >= 390, `${performance.now() - started} ms`);
  assert.throws(() => new RateLimiter(0), RangeError);
});
