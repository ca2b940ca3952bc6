/**
 * Short, safe renderings of input values for error messages.
 *
 * @module
 */

/** The BSON type tag of a driver value (`Int32`, `Long`, `ObjectId`…), if it has one. */
export function bsonType(value: unknown): string | undefined {
  return typeof value === "object" && value !== null && "_bsontype" in value
    ? String((value as { _bsontype: unknown })._bsontype)
    : undefined;
}

/** A short, safe rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return "(missing)";
  const type = bsonType(value);
  if (type) return `${type}(${String(value)})`;
  if (typeof value === "bigint") return `${value}n`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
