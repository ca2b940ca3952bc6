import assert from "node:assert/strict";
import { Count, isGroup, Sum } from "../../src/pipeline/monoid.ts";
import { pipeline } from "../../src/pipeline/pipeline.ts";
import { field, readDocument } from "../../src/pipeline/fields.ts";
import { readInt64, readKeyText } from "../../src/pipeline/bson_values.ts";

Deno.test("Sum is an exact group over bigint", () => {
  const big = 9223372036854775807n;
  assert.equal(Sum.combine(big, Sum.empty), big);
  assert.equal(Sum.combine(big, Sum.invert(big)), Sum.empty);
  assert.equal(Sum.combine(Sum.combine(1n, 2n), 3n), Sum.combine(1n, Sum.combine(2n, 3n)));
  assert.ok(isGroup(Sum));
  assert.ok(isGroup(Count));
});

Deno.test("pipeline() builds a frozen definition that runtimes read", () => {
  const store = { kind: "test" };
  const p = pipeline<bigint>("p1")
    .key(field("c", readKeyText))
    .value(field("a", readInt64))
    .aggregate(Sum)
    .storeIn(store);
  assert.equal(p.name, "p1");
  assert.deepEqual(readDocument(p.fields, { _id: 1, c: "x", a: 7n }, "t"), {
    id: "n:1",
    key: "x",
    value: 7n,
  });
  assert.equal(p.monoid, Sum);
  assert.equal(p.store, store);
  assert.ok(Object.isFrozen(p));
});

Deno.test("pipeline() rejects names that cannot namespace DynamoDB keys", () => {
  for (const name of ["", "a#b", "x".repeat(65), "with space"]) {
    assert.throws(() => pipeline(name), RangeError);
  }
});
