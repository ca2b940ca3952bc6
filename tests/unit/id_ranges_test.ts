import assert from "node:assert/strict";
import { BSON, Int32, ObjectId } from "mongodb";
import { rangeFilter } from "../../src/sources/mongo/id_ranges.ts";

const ejson = (value: unknown) => BSON.EJSON.stringify(value, { relaxed: false });
const oid = new ObjectId("65f0a0000000000000000000");

Deno.test("rangeFilter(): ends of one type are one bracketed range", () => {
  assert.deepEqual(rangeFilter(ejson(new Int32(5)), ejson(new Int32(9))), {
    $or: [{ _id: { $gte: new Int32(5), $lt: new Int32(9) } }],
  });
  assert.deepEqual(rangeFilter(undefined, undefined), {}, "one segment: everything");
});

Deno.test("rangeFilter(): ends of different types take every type between by $type", () => {
  assert.deepEqual(rangeFilter(ejson(new Int32(5)), ejson(oid)), {
    $or: [
      { _id: { $gte: new Int32(5) } },
      { _id: { $type: ["string", "symbol", "object", "array", "binData"] } },
      { _id: { $lt: oid } },
    ],
  });
  assert.deepEqual(rangeFilter(ejson("m"), ejson("s"), { rareTypes: false }), {
    $or: [{ _id: { $gte: "m", $lt: "s" } }],
  });
});

Deno.test("rangeFilter(): the first and last ranges reach every type below and above", () => {
  assert.deepEqual(rangeFilter(undefined, ejson("m")), {
    $or: [{ _id: { $type: ["minKey", "null", "undefined", "number"] } }, { _id: { $lt: "m" } }],
  });
  const last = rangeFilter(ejson(oid), undefined, { rareTypes: false });
  assert.deepEqual(last, {
    $or: [{ _id: { $gte: oid } }, { _id: { $type: ["bool", "date", "timestamp", "regex"] } }],
  });
});
