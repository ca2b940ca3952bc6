import assert from "node:assert/strict";
import { Decimal128, Double, Int32, Long, ObjectId } from "bson";
import { readOrder } from "../support/cdc_fixtures.ts";
import { orderKey, readInt64, readKeyText } from "../../src/pipeline/bson_values.ts";
import { BadRecordError } from "../../src/util/errors.ts";

Deno.test("readInt64() keeps int64 exact from every numeric BSON type", () => {
  assert.equal(
    readInt64(Long.fromString("9223372036854775807"), "amount", "x"),
    9223372036854775807n,
  );
  assert.equal(
    readInt64(Long.fromString("-9223372036854775808"), "amount", "x"),
    -9223372036854775808n,
  );
  assert.equal(readInt64(new Int32(-7), "amount", "x"), -7n);
  assert.equal(readInt64(new Double(12), "amount", "x"), 12n);
  assert.equal(
    readInt64(Decimal128.fromString("1234567890123456789.000"), "amount", "x"),
    1234567890123456789n,
  );
  assert.equal(readInt64(42, "amount", "x"), 42n);
  assert.equal(readInt64(5n, "amount", "x"), 5n);
});

Deno.test("readInt64() rejects non-integers and names the input", () => {
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
    assert.throws(() => readInt64(value, "amount", "orders _id=7"), (error: unknown) => {
      assert.ok(error instanceof BadRecordError);
      assert.match(error.message, /^orders _id=7: amount/);
      return true;
    }, `accepted ${String(value)}`);
  }
});

Deno.test("readKeyText() keys customers the way $group groups them", () => {
  assert.equal(readKeyText("c-1", "customer_id", "x"), "c-1");
  // "42" and 42 are two customers in $group (they used to share the key "42").
  assert.equal(readKeyText("42", "customer_id", "x"), "42");
  // 42 of any numeric type is one customer, a Double 42.0 included.
  for (const value of [42, 42n, new Int32(42), Long.fromNumber(42), new Double(42)]) {
    assert.equal(readKeyText(value, "customer_id", "x"), "n:42", `${value}`);
  }
  assert.equal(readKeyText(Decimal128.fromString("4.20E+1"), "customer_id", "x"), "n:42");
  assert.equal(
    readKeyText(Long.fromString("9007199254740993"), "customer_id", "x"),
    "n:9007199254740993",
  );
  // A string that looks like a typed key is escaped, so it cannot meet the number.
  assert.equal(readKeyText("n:42", "customer_id", "x"), "s:n:42");
  assert.equal(readKeyText("s:x", "customer_id", "x"), "s:s:x");
  for (const value of ["", null, undefined, 1.5, new Double(1.5), {}, true]) {
    assert.throws(() => readKeyText(value, "customer_id", "x"), BadRecordError);
  }
});

Deno.test("readInt64() reads Decimal128 in exponent form exactly", () => {
  assert.equal(readInt64(Decimal128.fromString("1E+3"), "amount", "x"), 1000n);
  assert.equal(readInt64(Decimal128.fromString("1.5E+1"), "amount", "x"), 15n);
  assert.equal(readInt64(Decimal128.fromString("100E-2"), "amount", "x"), 1n);
  assert.equal(readInt64(Decimal128.fromString("-2.50E+2"), "amount", "x"), -250n);
  for (const text of ["1E-2", "15E-1", "1E+19", "1E+6000"]) {
    assert.throws(
      () => readInt64(Decimal128.fromString(text), "amount", "x"),
      BadRecordError,
      text,
    );
  }
});

Deno.test("readInt64() takes no string amount and no Double beyond 2^53, like both paths", () => {
  // A Double past 2^53 - 1 may be the rounding of another integer: not exact, so refused.
  for (const value of ["12", "1E+3", new Double(2 ** 60), new Double(2 ** 53)]) {
    assert.throws(() => readInt64(value, "amount", "x"), BadRecordError, String(value));
  }
  assert.equal(readInt64(new Double(2 ** 53 - 1), "amount", "x"), 9007199254740991n);
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

Deno.test("the order pipeline's fields read a full document", () => {
  const order = readOrder({ _id: 1, customer_id: "c", amount: Long.fromString("10") }, "x");
  assert.deepEqual(order, { orderKey: "n:1", customer_id: "c", amount: 10n });
});
