import assert from "node:assert/strict";
import { Decimal128, Double, Int32, Long, ObjectId } from "bson";
import { decodeOrder } from "../../src/app/orderstats.ts";
import { orderKey, parseAmount, parseCustomerId } from "../../src/pipeline/bson_values.ts";
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

Deno.test("parseCustomerId() keys customers the way $group groups them", () => {
  assert.equal(parseCustomerId("c-1", "x"), "c-1");
  // "42" and 42 are two customers in $group (they used to share the key "42").
  assert.equal(parseCustomerId("42", "x"), "42");
  // 42 of any numeric type is one customer, a Double 42.0 included.
  for (const value of [42, 42n, new Int32(42), Long.fromNumber(42), new Double(42)]) {
    assert.equal(parseCustomerId(value, "x"), "n:42", `${value}`);
  }
  assert.equal(parseCustomerId(Decimal128.fromString("4.20E+1"), "x"), "n:42");
  assert.equal(parseCustomerId(Long.fromString("9007199254740993"), "x"), "n:9007199254740993");
  // A string that looks like a typed key is escaped, so it cannot meet the number.
  assert.equal(parseCustomerId("n:42", "x"), "s:n:42");
  assert.equal(parseCustomerId("s:x", "x"), "s:s:x");
  for (const value of ["", null, undefined, 1.5, new Double(1.5), {}, true]) {
    assert.throws(() => parseCustomerId(value, "x"), BadRecordError);
  }
});

Deno.test("parseAmount() reads Decimal128 in exponent form exactly", () => {
  assert.equal(parseAmount(Decimal128.fromString("1E+3"), "x"), 1000n);
  assert.equal(parseAmount(Decimal128.fromString("1.5E+1"), "x"), 15n);
  assert.equal(parseAmount(Decimal128.fromString("100E-2"), "x"), 1n);
  assert.equal(parseAmount(Decimal128.fromString("-2.50E+2"), "x"), -250n);
  for (const text of ["1E-2", "15E-1", "1E+19", "1E+6000"]) {
    assert.throws(() => parseAmount(Decimal128.fromString(text), "x"), BadRecordError, text);
  }
});

Deno.test("parseAmount() takes no string amount and no Double beyond 2^53, like both paths", () => {
  // A Double past 2^53 - 1 may be the rounding of another integer: not exact, so refused.
  for (const value of ["12", "1E+3", new Double(2 ** 60), new Double(2 ** 53)]) {
    assert.throws(() => parseAmount(value, "x"), BadRecordError, String(value));
  }
  assert.equal(parseAmount(new Double(2 ** 53 - 1), "x"), 9007199254740991n);
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
