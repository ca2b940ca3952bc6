import assert from "node:assert/strict";
import { Decimal128, Double, Int32, Long, ObjectId } from "bson";
import { decodeOrder, orderKey, parseAmount, parseCustomerId } from "../../src/app/order.ts";
import { BadRecordError } from "../../src/util/errors.ts";

Deno.test("parseAmount() keeps int64 exact from every numeric BSON type", () => {
  assert.equal(parseAmount(Long.fromString("9223372036854775807"), "x"), 9223372036854775807n);
  assert.equal(parseAmount(Long.fromString("-9223372036854775808"), "x"), -9223372036854775808n);
  assert.equal(parseAmount(new Int32(-7), "x"), -7n);
  assert.equal(parseAmount(new Double(12), "x"), 12n);
  assert.equal(
    parseAmount(Decimal128.fromString("1234567890123456789.000"), "x"),
    1234567890123456789n,
  );
  assert.equal(parseAmount(42, "x"), 42n);
  assert.equal(parseAmount(5n, "x"), 5n);
});

Deno.test("parseAmount() rejects non-integers and names the input", () => {
  const bad = [
    1.5,
    NaN,
    Infinity,
    "12",
    null,
    undefined,
    new Double(0.1),
    Decimal128.fromString("1.5"),
    Decimal128.fromString("NaN"),
    2 ** 60,
    9223372036854775808n,
    { amount: 1 },
  ];
  for (const value of bad) {
    assert.throws(() => parseAmount(value, "orders _id=7"), (error: unknown) => {
      assert.ok(error instanceof BadRecordError);
      assert.match(error.message, /^orders _id=7: amount/);
      return true;
    }, `accepted ${String(value)}`);
  }
});

Deno.test("parseCustomerId() accepts strings and integers as one customer", () => {
  assert.equal(parseCustomerId("c-1", "x"), "c-1");
  assert.equal(parseCustomerId(new Int32(42), "x"), "42");
  assert.equal(parseCustomerId(Long.fromNumber(42), "x"), "42");
  assert.equal(parseCustomerId(42, "x"), "42");
  for (const value of ["", null, undefined, 1.5, {}, true]) {
    assert.throws(() => parseCustomerId(value, "x"), BadRecordError);
  }
});

Deno.test("orderKey() gives numerically equal _ids of any type one key", () => {
  const oid = new ObjectId("596e275826f08b2730779e1f");
  assert.equal(orderKey(oid, "x"), "o:596e275826f08b2730779e1f");
  assert.equal(orderKey("1234", "x"), "s:1234");
  assert.equal(orderKey(1234, "x"), "n:1234");
  assert.equal(orderKey(new Int32(1234), "x"), "n:1234");
  assert.equal(orderKey(Long.fromNumber(1234), "x"), "n:1234");
  assert.equal(orderKey(new Double(1234), "x"), "n:1234");
  assert.notEqual(orderKey("1234", "x"), orderKey(1234, "x"));
  for (const value of [undefined, null, 1.5, { a: 1 }]) {
    assert.throws(() => orderKey(value, "x"), BadRecordError);
  }
});

Deno.test("decodeOrder() reads a full document", () => {
  const order = decodeOrder({ _id: 1, customer_id: "c", amount: Long.fromString("10") }, "x");
  assert.deepEqual(order, { orderKey: "n:1", customer_id: "c", amount: 10n });
});
