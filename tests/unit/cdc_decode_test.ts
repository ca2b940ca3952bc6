import assert from "node:assert/strict";
import { type CdcFormat, decodeCdcMessage } from "../../src/sources/cdc/mod.ts";
import { BadRecordError } from "../../src/util/errors.ts";
import {
  cdcFixtureNames,
  cdcMessage,
  loadCdcFixture,
  ORDER_FIELDS as fields,
} from "../support/cdc_fixtures.ts";

const SOURCE = { version: "2.7.0.Final", ts_ms: 1741186978000, ord: 1 };
const envelope = (fields: Record<string, unknown>) => JSON.stringify({ source: SOURCE, ...fields });

Deno.test("decodeCdcMessage() decodes every fixture in auto mode", () => {
  const names = cdcFixtureNames();
  assert.ok(names.length >= 15, `only ${names.length} fixtures`);
  for (const [offset, name] of names.entries()) {
    const fixture = loadCdcFixture(name, offset);
    const result = decodeCdcMessage(fixture.message, { fields });
    assert.ok(result.kind, name);
    if (fixture.shape === "control") assert.equal(result.kind, "skip", name);
  }
});

Deno.test("decodeCdcMessage() rejects an unknown format with a RangeError", () => {
  assert.throws(
    () => decodeCdcMessage(cdcMessage(null, null), { format: "xml" as CdcFormat, fields }),
    (error: unknown) => error instanceof RangeError && /current value is "xml"/.test(error.message),
  );
});

Deno.test("decodeCdcMessage() with an explicit format refuses other shapes", () => {
  const raw = '{"_id": 1, "customer_id": "c", "amount": 5}';
  assert.throws(
    () => decodeCdcMessage(cdcMessage(null, raw), { format: "debezium", fields }),
    /not a Debezium envelope/,
  );
  assert.throws(
    () => decodeCdcMessage(cdcMessage(null, envelope({ op: "d" })), { format: "raw", fields }),
    /order document has no _id/,
  );
});

Deno.test("decodeCdcMessage() names topic[partition]@offset and the reason for bad messages", () => {
  const key = '{"id": "1234"}';
  const bad: [string | null, string | Uint8Array, RegExp][] = [
    [key, "not json", /value is not valid JSON/],
    [key, new Uint8Array([0xff, 0xfe, 0x7b]), /value is not UTF-8/],
    [key, "[1, 2]", /value is not a JSON object/],
    [key, '"text"', /value is not a JSON object/],
    [null, "{}", /neither a Debezium envelope .* nor an order document/],
    [null, '{"customer_id": "c", "amount": 5}', /neither a Debezium envelope/],
    [key, envelope({ op: "x" }), /unknown Debezium op "x"/],
    [key, envelope({ op: "c" }), /op c has no after document/],
    [key, envelope({ op: "r", after: null }), /op r has no after document/],
    [key, envelope({ op: "c", after: { _id: 1 } }), /after is not an extended JSON string/],
    [key, envelope({ op: "c", after: "{bad" }), /after is not valid JSON/],
    [key, envelope({ op: "c", after: "[1]" }), /after is not a document/],
    [key, envelope({ op: "c", after: '{"customer_id": "c"}' }), /_id \(missing\)/],
    [key, envelope({ op: "c", after: '{"_id": 1.5}' }), /_id Double\(1.5\)/],
    [key, envelope({ op: "c", after: '{"_id": {"$oid": "zz"}}' }), /not valid extended JSON/],
    [key, envelope({ op: "c", after: '{"_id": true}' }), /_id true is not/],
    [null, envelope({ op: "d" }), /message has no key/],
    ['{"pk": 1}', envelope({ op: "d" }), /not a Debezium MongoDB key/],
    [
      key,
      envelope({ op: "u", updateDescription: { updatedFields: '{"amount.cents": 1}' } }),
      /amount\.cents, inside amount/,
    ],
    [
      key,
      envelope({ op: "u", updateDescription: { removedFields: ["customer_id.x"] } }),
      /inside customer_id/,
    ],
    [
      key,
      envelope({ op: "u", updateDescription: { removedFields: "amount" } }),
      /removedFields is not a list/,
    ],
    [
      key,
      envelope({ op: "u", updateDescription: { updatedFields: { amount: 1 } } }),
      /updatedFields is not a JSON string/,
    ],
    [
      key,
      envelope({ op: "u", updateDescription: { updatedFields: "[]" } }),
      /updatedFields is not a document/,
    ],
    [key, JSON.stringify({ op: "c", source: "x", after: '{"_id": 1}' }), /source is not an object/],
    [
      key,
      JSON.stringify({ op: "c", source: { ...SOURCE, ts_ms: "soon" }, after: '{"_id": 1}' }),
      /source ts_ms/,
    ],
    [
      key,
      JSON.stringify({ op: "c", source: { ...SOURCE, ord: -1 }, after: '{"_id": 1}' }),
      /source ord/,
    ],
    [key, '{"_id": 1, "__deleted": "maybe"}', /__deleted "maybe"/],
    [key, '{"_id": 1, "__op": "x"}', /unknown __op "x"/],
    [null, '{"_id": {"$numberLong": "99999999999999999999"}}', /not a 64-bit integer/],
    [null, '{"_id": [1, 2], "customer_id": "c", "amount": 1}', /_id \[1,2\]/],
  ];
  for (const [offset, [keyText, value, reason]] of bad.entries()) {
    const message = cdcMessage(keyText, typeof value === "string" ? value : null, offset);
    if (value instanceof Uint8Array) message.value = value;
    assert.throws(() => decodeCdcMessage(message, { fields }), (error: unknown) => {
      assert.ok(error instanceof BadRecordError, `${value}: ${error}`);
      assert.equal(error.code, "BAD_RECORD");
      assert.equal(error.where, `orders.cdc[0]@${offset}`);
      assert.match(error.message, reason, String(value));
      return true;
    });
  }
});

Deno.test("decodeCdcMessage() refuses a Debezium key that names another order than the value", () => {
  const source = { version: "2.7.0.Final", ts_ms: 1741186978000, ord: 1 };
  const after = '{"_id": 8, "customer_id": "a", "amount": 5}';
  const cases: [string, string][] = [
    ['{"id": "9"}', JSON.stringify({ op: "c", after, source })],
    ['{"id": "\\"8\\""}', JSON.stringify({ op: "u", after, source })],
    ['{"id": "9"}', '{"_id": 8, "customer_id": "a", "amount": 5, "__op": "c"}'],
    ['{"id": "9"}', '{"_id": 8, "customer_id": "a", "amount": 5}'],
  ];
  for (const [offset, [key, value]] of cases.entries()) {
    assert.throws(() => decodeCdcMessage(cdcMessage(key, value, offset), { fields }), (error) => {
      assert.ok(error instanceof BadRecordError, `${key} ${value}: ${error}`);
      assert.match(error.reason, /key names order .* but the value's _id is/);
      return true;
    });
  }
  // The flattening SMT writes an ObjectId _id as its hex string: that agrees with its key.
  const hex = "67c867a2e4b0a1c2d3e4f501";
  const flat = decodeCdcMessage(
    cdcMessage(`{"id": "{\\"$oid\\": \\"${hex}\\"}"}`, `{"_id": "${hex}", "amount": 1}`),
    { fields },
  );
  assert.equal(flat.kind === "upsert" && flat.orderKey, `o:${hex}`);
});
