/**
 * Loads the Kafka message fixtures in tests/fixtures/debezium/ without rounding numbers.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { CdcDecoded, CdcMessage } from "../../src/sources/cdc/mod.ts";
import type { OrderChange } from "../../src/pipeline/change.ts";
import { fieldNames, readDocument } from "../../src/pipeline/fields.ts";
import { orderFields } from "../../src/app/orderstats.ts";

/** The orders pipeline's field names, as live hands them to the decoders. */
export const ORDER_FIELDS = fieldNames(orderFields);

/** A full order document read through the pipeline's fields, in the order's own terms. */
export function readOrder(document: Record<string, unknown>, where: string) {
  const { id, key, value } = readDocument(orderFields, document, where);
  return { orderKey: id, customer_id: key, amount: value };
}

const DIR = new URL("../fixtures/debezium/", import.meta.url);

/** One fixture file. */
export interface CdcFixture {
  name: string;
  description: string;
  shape: "debezium" | "flattened" | "raw" | "control";
  message: CdcMessage;
}

interface RawJsonApi {
  rawJSON(text: string): unknown;
}

function exactJson(text: string): unknown {
  return JSON.parse(
    text,
    (_key, value, context?: { source?: string }) =>
      typeof value === "number" && context?.source !== undefined
        ? (JSON as unknown as RawJsonApi).rawJSON(context.source)
        : value,
  );
}

function bytes(value: unknown): Uint8Array | null {
  return value === null ? null : new TextEncoder().encode(JSON.stringify(value));
}

/** Reads `tests/fixtures/debezium/<name>.json` as a message at `orders.cdc[0]@offset`. */
export function loadCdcFixture(name: string, offset = 0): CdcFixture {
  const file = exactJson(Deno.readTextFileSync(new URL(`${name}.json`, DIR))) as {
    description: string;
    shape: CdcFixture["shape"];
    key: unknown;
    value: unknown;
  };
  return {
    name,
    description: file.description,
    shape: file.shape,
    message: {
      topic: "orders.cdc",
      partition: 0,
      offset: String(offset),
      key: bytes(file.key),
      value: bytes(file.value),
    },
  };
}

/** Every fixture's name (file name without `.json`). */
export function cdcFixtureNames(): string[] {
  return [...Deno.readDirSync(DIR)]
    .filter((entry) => entry.name.endsWith(".json"))
    .map((entry) => entry.name.slice(0, -".json".length))
    .sort();
}

/** A message with the given key and value, each a JSON text or null. */
export function cdcMessage(key: string | null, value: string | null, offset = 0): CdcMessage {
  const encode = (text: string | null) => text === null ? null : new TextEncoder().encode(text);
  return {
    topic: "orders.cdc",
    partition: 0,
    offset: String(offset),
    key: encode(key),
    value: encode(value),
  };
}

/** Asserts a decoded message is an order change of `kind`, and narrows its type. */
export function asKind<K extends OrderChange["kind"]>(
  result: CdcDecoded,
  kind: K,
): Extract<OrderChange, { kind: K }> {
  assert.equal(result.kind, kind);
  return result as Extract<OrderChange, { kind: K }>;
}
