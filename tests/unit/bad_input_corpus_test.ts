import assert from "node:assert/strict";
import { decodeCdcMessage } from "../../src/sources/cdc/mod.ts";
import { contributionCodec } from "../../src/pipeline/contribution.ts";
import { orderFields } from "../../src/app/orderstats.ts";
import { applyChanges } from "../../src/runtimes/live/apply.ts";
import { BAD_RECORD_KINDS, BadRecordError } from "../../src/util/errors.ts";
import {
  BAD_INPUT_CORPUS,
  CORPUS_MAX_RECORD_BYTES,
  type CorpusCase,
} from "../fixtures/bad_inputs/corpus.ts";
import { ORDER_FIELDS } from "../support/cdc_fixtures.ts";

const codec = contributionCodec(orderFields);

/** What live mode makes of one case on its own: the decoder, then applying it to no ledger entry. */
function outcomeOf(entry: CorpusCase, offset: number) {
  const message = { topic: "orders.cdc", partition: 0, offset, key: entry.key, value: entry.value };
  const where = `orders.cdc[0]@${offset}`;
  let decoded;
  try {
    decoded = decodeCdcMessage(message, {
      fields: ORDER_FIELDS,
      maxRecordBytes: CORPUS_MAX_RECORD_BYTES,
    });
  } catch (error) {
    if (error instanceof BadRecordError) return { error };
    throw error;
  }
  if (decoded.kind === "skip") return { skip: decoded.reason };
  const origin = { position: decoded.position, partition: 0, offset: BigInt(offset) };
  const outcome = applyChanges(decoded.orderKey, undefined, [
    { change: decoded, origin, where },
  ], codec);
  if (outcome.rejected.length > 0) return { error: outcome.rejected[0].error };
  return { entry: outcome.next };
}

Deno.test("every bad-input corpus case decodes and applies as the corpus expects", () => {
  for (const [offset, entry] of BAD_INPUT_CORPUS.entries()) {
    const got = outcomeOf(entry, offset);
    const expected = entry.expected;
    const label = `${entry.family}: ${entry.name}`;
    if ("deadLetter" in expected) {
      assert.ok(got.error, `${label} was not refused`);
      assert.equal(got.error.kind, expected.deadLetter, `${label}: ${got.error.reason}`);
      assert.match(got.error.reason, expected.reason, `${label}: ${got.error.reason}`);
    } else if ("skip" in expected) {
      assert.equal(got.skip, expected.skip, label);
    } else {
      assert.equal(got.error, undefined, `${label}: ${got.error?.reason}`);
      assert.equal(got.entry?.key, expected.applied.customer, label);
      assert.equal(got.entry?.value, expected.applied.amount, label);
    }
  }
});

Deno.test("the bad-input corpus has 30+ dead-letter cases covering every bad-record kind", () => {
  const kinds = BAD_INPUT_CORPUS.flatMap((c) =>
    "deadLetter" in c.expected ? [c.expected.deadLetter] : []
  );
  assert.ok(kinds.length >= 30, `${kinds.length} dead-letter cases`);
  assert.deepEqual(new Set(kinds), new Set(BAD_RECORD_KINDS));
  const names = BAD_INPUT_CORPUS.map((c) => c.name);
  assert.equal(new Set(names).size, names.length, "case names are unique");
});
