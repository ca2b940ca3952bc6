import assert from "node:assert/strict";
import { Decimal128, Double, EJSON, Int32, Long, ObjectId } from "bson";
import { orderKey, readInt64 } from "../../src/pipeline/bson_values.ts";
import {
  orderKeyFromDebeziumKey,
  parseExtendedJson,
  parseJson,
} from "../../src/sources/cdc/mod.ts";
import { BadRecordError } from "../../src/util/errors.ts";

const W = "orders.cdc[0]@1";
const encode = (text: string) => new TextEncoder().encode(text);

Deno.test("parseJson() keeps integers beyond 2^53 exact", () => {
  assert.deepEqual(parseJson('{"a": 9223372036854775807, "b": -9223372036854775808}', "v", W), {
    a: { $numberLong: "9223372036854775807" },
    b: { $numberLong: "-9223372036854775808" },
  });
  assert.deepEqual(parseJson('{"a": 9007199254740991, "b": 1.5}', "v", W), {
    a: 9007199254740991,
    b: 1.5,
  });
});

Deno.test("parseJson() types integers beyond int64 as doubles so amounts reject them", () => {
  const doc = parseExtendedJson('{"amount": 9223372036854775808}', "v", W) as { amount: unknown };
  assert.ok(doc.amount instanceof Double);
  assert.throws(() => readInt64(doc.amount, "amount", W), BadRecordError);
});

Deno.test("parseExtendedJson() reads strict, canonical and relaxed numbers exactly", () => {
  const cases: [string, bigint][] = [
    ['{"$numberLong": "9223372036854775807"}', 9223372036854775807n],
    ['{"$numberLong": "-42"}', -42n],
    ['{"$numberInt": "7"}', 7n],
    ['{"$numberDouble": "12.0"}', 12n],
    ['{"$numberDecimal": "2500"}', 2500n],
    ['{"$numberDecimal": "2500.00"}', 2500n],
    ["9223372036854775807", 9223372036854775807n],
    ["1500", 1500n],
    ["3000000000", 3000000000n],
  ];
  for (const [text, expected] of cases) {
    assert.equal(readInt64(parseExtendedJson(text, "amount", W), "amount", W), expected, text);
  }
});

Deno.test("parseExtendedJson() yields BSON types", () => {
  const doc = parseExtendedJson(
    '{"_id": {"$oid": "67c867a2e4b0a1c2d3e4f501"}, "i": 1, "l": {"$numberLong": "5"}, ' +
      '"d": {"$numberDecimal": "1.5"}, "f": 1.5}',
    "after",
    W,
  ) as Record<string, unknown>;
  assert.ok(doc._id instanceof ObjectId);
  assert.ok(doc.i instanceof Int32);
  assert.ok(doc.l instanceof Long);
  assert.ok(doc.d instanceof Decimal128);
  assert.ok(doc.f instanceof Double);
});

Deno.test("parseExtendedJson() rejects bad text and bad extended JSON", () => {
  const bad: [string, RegExp][] = [
    ["{bad", /after is not valid JSON/],
    ["", /after is not valid JSON/],
    ['{"_id": {"$oid": "zz"}}', /after is not valid extended JSON/],
    ['{"a": {"$numberLong": "99999999999999999999"}}', /not a 64-bit integer/],
    ['{"a": {"$numberLong": "1.5"}}', /not a 64-bit integer/],
  ];
  for (const [text, reason] of bad) {
    assert.throws(() => parseExtendedJson(text, "after", W), (error: unknown) => {
      assert.ok(error instanceof BadRecordError, text);
      assert.equal(error.where, W);
      assert.match(error.message, reason);
      return true;
    });
  }
});

Deno.test("orderKeyFromDebeziumKey() matches orderKey() of the BSON _id", () => {
  const oid = new ObjectId("67c867a2e4b0a1c2d3e4f501");
  const cases: [string, unknown][] = [
    // As Debezium writes the key id (Java driver, relaxed mode).
    ['{"$oid": "67c867a2e4b0a1c2d3e4f501"}', oid],
    ['"A-17"', "A-17"],
    ['"1234"', "1234"],
    ["1234", new Int32(1234)],
    ["1234", Long.fromNumber(1234)],
    ["1234.0", new Double(1234)],
    ["9223372036854775807", Long.MAX_VALUE],
    ["-9223372036854775808", Long.MIN_VALUE],
    // Other extended JSON modes for the same values.
    ['{"$numberLong": "1234"}', 1234],
    ['{"$numberInt": "1234"}', new Int32(1234)],
    ['{"$numberLong": "9223372036854775807"}', Long.MAX_VALUE],
    ['"\\"quoted\\""', '"quoted"'],
  ];
  for (const [idText, bsonId] of cases) {
    for (const wrap of [false, true]) {
      const payload = { id: idText };
      const key = wrap
        ? { schema: { type: "struct", fields: [{ type: "string", field: "id" }] }, payload }
        : payload;
      assert.equal(
        orderKeyFromDebeziumKey(encode(JSON.stringify(key)), W),
        orderKey(bsonId, "bson"),
        `${idText} (schemas ${wrap})`,
      );
    }
  }
  // What bson's own EJSON writes maps the same way too (its relaxed mode rounds a Long beyond
  // 2^53 to a double, unlike the Java driver's, so that one only in canonical mode).
  const bsonIds: [unknown, boolean[]][] = [
    [oid, [true, false]],
    ["A-17", [true, false]],
    [new Int32(5), [true, false]],
    [Long.fromNumber(5), [true, false]],
    [Long.MAX_VALUE, [false]],
  ];
  for (const [bsonId, modes] of bsonIds) {
    for (const relaxed of modes) {
      const key = JSON.stringify({ id: EJSON.stringify(bsonId, { relaxed }) });
      assert.equal(orderKeyFromDebeziumKey(encode(key), W), orderKey(bsonId, "bson"));
    }
  }
});

Deno.test("orderKeyFromDebeziumKey() rejects missing and malformed keys", () => {
  const bad: [Uint8Array | null, RegExp][] = [
    [null, /no key/],
    [new Uint8Array(), /no key/],
    [new Uint8Array([0xff, 0xfe]), /key is not UTF-8/],
    [encode("nope"), /key is not valid JSON/],
    [encode('{"_id": 1}'), /not a Debezium MongoDB key/],
    [encode('{"id": 1234}'), /not a Debezium MongoDB key/],
    [encode('{"id": "1.5"}'), /_id Double\(1.5\)/],
    [encode('{"id": "{\\"$oid\\": \\"xyz\\"}"}'), /key id is not valid extended JSON/],
    [encode('{"id": "[1]"}'), /_id/],
  ];
  for (const [key, reason] of bad) {
    assert.throws(() => orderKeyFromDebeziumKey(key, W), (error: unknown) => {
      assert.ok(error instanceof BadRecordError, String(key));
      assert.equal(error.where, W);
      assert.match(error.message, reason);
      return true;
    });
  }
});
