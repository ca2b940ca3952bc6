/**
 * DEV/TEST ONLY. Writes BSON values as extended JSON the way Debezium's MongoDB connector does
 * (Java driver `JsonWriterSettings`): `strict` = `JsonMode.STRICT` (legacy strict, used for
 * `after`/`before`), `relaxed` = `JsonMode.RELAXED` (used for the key id and `updatedFields`).
 *
 * Differences that matter: strict writes int64 as `{"$numberLong": "…"}`, relaxed as a plain
 * number with every digit (bson's own relaxed EJSON rounds beyond 2^53, so it is not used).
 * Both write int32 plainly, doubles with a decimal point, Decimal128 as `{"$numberDecimal"}`,
 * ObjectId as `{"$oid"}`. Values are read with the driver's `promoteValues: false`, so each
 * number keeps its BSON type.
 *
 * @module
 */
import { EJSON } from "bson";

/** Which Java `JsonMode` to imitate. */
export type JsonMode = "strict" | "relaxed";

interface Tagged {
  _bsontype?: string;
}

/** Extended JSON text of `value` in `mode`. */
export function toExtendedJson(value: unknown, mode: JsonMode): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") return double(value, mode);
  if (typeof value === "bigint") return long(value.toString(), mode);
  if (value instanceof Date) return date(value.getTime(), mode);
  if (Array.isArray(value)) return `[${value.map((v) => toExtendedJson(v, mode)).join(", ")}]`;
  const type = (value as Tagged)._bsontype;
  if (type === undefined) {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${toExtendedJson(v, mode)}`);
    return `{${fields.join(", ")}}`;
  }
  const text = String(value);
  switch (type) {
    case "Int32":
      return text;
    case "Long":
      return long(text, mode);
    case "Double":
      return double(Number((value as { valueOf(): number }).valueOf()), mode);
    case "Decimal128":
      return `{"$numberDecimal": ${JSON.stringify(text)}}`;
    case "ObjectId":
    case "ObjectID":
      return `{"$oid": ${JSON.stringify((value as { toHexString(): string }).toHexString())}}`;
    case "Timestamp": {
      const ts = value as { t: number; i: number };
      return `{"$timestamp": {"t": ${ts.t}, "i": ${ts.i}}}`;
    }
    case "Binary": {
      const bin = value as { sub_type: number; toString(encoding: "base64"): string };
      const subType = bin.sub_type.toString(16).padStart(2, "0");
      return `{"$binary": ${JSON.stringify(bin.toString("base64"))}, "$type": "${subType}"}`;
    }
    default:
      // Rare types (regex, code, min/max key…): canonical extended JSON is close enough here.
      return EJSON.stringify(value as Parameters<typeof EJSON.stringify>[0], { relaxed: false });
  }
}

function long(text: string, mode: JsonMode): string {
  return mode === "strict" ? `{"$numberLong": ${JSON.stringify(text)}}` : text;
}

function double(n: number, _mode: JsonMode): string {
  if (!Number.isFinite(n)) {
    // Java's strict mode writes a bare NaN (not JSON); both modes use the canonical form here.
    return `{"$numberDouble": "${Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity"}"}`;
  }
  const text = String(n);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

function date(ms: number, mode: JsonMode): string {
  if (mode === "strict") return `{"$date": ${ms}}`;
  const iso = new Date(ms).toISOString();
  return ms >= 0 && ms <= 253402300799999
    ? `{"$date": "${iso}"}`
    : `{"$date": {"$numberLong": "${ms}"}}`;
}
