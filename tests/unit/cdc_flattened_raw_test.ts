import assert from "node:assert/strict";
import { Long } from "bson";
import { decodeCdcMessage } from "../../src/sources/cdc/mod.ts";
import { BadRecordError } from "../../src/util/errors.ts";
import {
  asKind,
  cdcMessage,
  loadCdcFixture,
  ORDER_FIELDS as fields,
  readOrder,
} from "../support/cdc_fixtures.ts";

Deno.test("flattened: an upsert takes its key from the Debezium key and drops metadata", () => {
  for (const format of ["auto", "flattened"] as const) {
    const message = loadCdcFixture("flattened_upsert_schemas").message;
    const change = asKind(decodeCdcMessage(message, { format, fields }), "upsert");
    // The SMT writes the ObjectId _id as a hex string: only the key keeps its type.
    assert.equal(change.orderKey, "o:67c867a2e4b0a1c2d3e4f501");
    assert.deepEqual(change.position, { clusterTime: (1741186978n << 32n) | 25n });
    assert.deepEqual(Object.keys(change.document).sort(), ["_id", "amount", "customer_id"]);
    assert.equal(readOrder(change.document, "t").amount, 9223372036854775807n);
  }
});

Deno.test("flattened: __deleted marks a delete; ts_ms without a version is wall time", () => {
  const change = asKind(
    decodeCdcMessage(loadCdcFixture("flattened_rewrite_delete").message, { fields }),
    "delete",
  );
  assert.equal(change.orderKey, "n:1234");
  assert.deepEqual(change.position, { wallMs: 1741187200000 });
});

Deno.test("flattened: a tombstone is a delete only when the format says flattened", () => {
  const message = loadCdcFixture("flattened_tombstone").message;
  assert.deepEqual(decodeCdcMessage(message, { format: "flattened", fields }), {
    kind: "delete",
    orderKey: "s:A-17",
    position: {},
  });
  assert.deepEqual(decodeCdcMessage(message, { fields }), { kind: "skip", reason: "tombstone" });
  assert.deepEqual(decodeCdcMessage(message, { format: "raw", fields }), {
    kind: "skip",
    reason: "tombstone",
  });
  assert.throws(
    () => decodeCdcMessage({ ...message, key: null }, { format: "flattened", fields }),
    /orders\.cdc\[0\]@0: message has no key/,
  );
});

Deno.test("flattened: a Decimal128 amount written as a decimal string is read exactly", () => {
  const change = asKind(
    decodeCdcMessage(loadCdcFixture("flattened_decimal").message, { fields }),
    "upsert",
  );
  assert.equal(change.orderKey, "s:A-17");
  assert.equal(readOrder(change.document, "t").amount, 2500n);
});

Deno.test("flattened: without a Debezium key the document's _id is the key", () => {
  const value = '{"_id": {"$oid": "67c867a2e4b0a1c2d3e4f501"}, "__deleted": "true"}';
  assert.deepEqual(decodeCdcMessage(cdcMessage(null, value), { fields }), {
    kind: "delete",
    orderKey: "o:67c867a2e4b0a1c2d3e4f501",
    position: {},
  });
});

Deno.test("flattened: without a key, a hex _id the SMT wrote for an ObjectId keys like bootstrap", () => {
  // The SMT writes an ObjectId _id as its 24-digit hex string; bootstrap keys it o:<hex>.
  const value = '{"_id": "67c867a2e4b0a1c2d3e4f501", "customer_id": "c", "amount": 5}';
  const change = asKind(
    decodeCdcMessage(cdcMessage(null, value), { format: "flattened", fields }),
    "upsert",
  );
  assert.equal(change.orderKey, "o:67c867a2e4b0a1c2d3e4f501");
  const other = '{"_id": "A-17", "customer_id": "c", "amount": 5}';
  assert.equal(
    asKind(decodeCdcMessage(cdcMessage(null, other), { format: "flattened", fields }), "upsert")
      .orderKey,
    "s:A-17",
  );
});

Deno.test("flattened: a Decimal128 amount in exponent form is read like bootstrap reads it", () => {
  const value = '{"_id": 1, "customer_id": "c", "amount": "1E+3"}';
  const change = asKind(
    decodeCdcMessage(cdcMessage(null, value), { format: "flattened", fields }),
    "upsert",
  );
  assert.equal(readOrder(change.document, "t").amount, 1000n);
});

Deno.test("debezium and raw: amounts follow bootstrap's rule (no strings, no Double past 2^53)", () => {
  const after = (amount: string) =>
    JSON.stringify({
      op: "c",
      after: `{"_id": 1, "customer_id": "c", "amount": ${amount}}`,
      source: { version: "2.7.0.Final", ts_ms: 1741186978000, ord: 1 },
    });
  const read = (value: string, key = '{"id": "1"}') =>
    readOrder(asKind(decodeCdcMessage(cdcMessage(key, value), { fields }), "upsert").document, "t");
  assert.equal(read(after('{"$numberDecimal": "1E+3"}')).amount, 1000n);
  for (const amount of ['"12"', '{"$numberDouble": "1.152921504606847E18"}']) {
    assert.throws(() => read(after(amount)), BadRecordError, amount);
  }
  const raw = (amount: string) => read(`{"_id": 1, "customer_id": "c", "amount": ${amount}}`, "1");
  for (const amount of ['"12"', "1.152921504606847E18"]) {
    assert.throws(() => raw(amount), BadRecordError, amount);
  }
});

Deno.test("raw: a bare order document is an upsert with an exact int64 amount", () => {
  for (const format of ["auto", "raw"] as const) {
    const change = asKind(
      decodeCdcMessage(loadCdcFixture("raw_order").message, { format, fields }),
      "upsert",
    );
    assert.equal(change.orderKey, "n:1234");
    assert.deepEqual(change.position, {});
    assert.ok(change.document.amount instanceof Long);
    assert.equal(readOrder(change.document, "t").amount, 9007199254740993n);
  }
});

Deno.test("raw: extended JSON values are accepted", () => {
  const value = '{"_id": {"$oid": "67c867a2e4b0a1c2d3e4f501"}, "customer_id": "c", ' +
    '"amount": {"$numberDecimal": "12"}}';
  const change = asKind(
    decodeCdcMessage(cdcMessage(null, value), { format: "raw", fields }),
    "upsert",
  );
  assert.deepEqual(readOrder(change.document, "t"), {
    orderKey: "o:67c867a2e4b0a1c2d3e4f501",
    customer_id: "c",
    amount: 12n,
  });
});

Deno.test("raw: fractional and out-of-range amounts pass decoding and fail readOrder()", () => {
  for (const amount of ["12.5", "9223372036854775808", "1e400"]) {
    const value = `{"_id": 1, "customer_id": "c", "amount": ${amount}}`;
    const change = asKind(decodeCdcMessage(cdcMessage(null, value), { fields }), "upsert");
    assert.throws(() => readOrder(change.document, "orders _id=1"), BadRecordError, amount);
  }
});
