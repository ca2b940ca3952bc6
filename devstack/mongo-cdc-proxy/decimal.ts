/**
 * Decimal128 transcoding (TEST SUPPORT). FerretDB 1.x has no Decimal128 (its connection
 * panics on one), so values travel to it as Binary subtype 0x80 holding the same 16 bytes and
 * come back as Decimal128. Equality still matches; ordering, arithmetic and `$sum` do not.
 */
import { onDemand } from "bson";

const DECIMAL = 0x13;
const BINARY = 0x05;
const DOCUMENT = 0x03;
const ARRAY = 0x04;
/** User-defined binary subtype that marks a transcoded Decimal128. */
export const DECIMAL_SUBTYPE = 0x80;

type Rewrite = (type: number, value: Uint8Array) => [number, Uint8Array] | null;

function rewrite(doc: Uint8Array, fn: Rewrite): Uint8Array {
  let changed = false;
  const parts: Uint8Array[] = [];
  for (const [type, nameOffset, nameLength, offset, length] of onDemand.parseToElements(doc)) {
    const value = doc.subarray(offset, offset + length);
    const name = doc.subarray(nameOffset, nameOffset + nameLength + 1); // with its NUL
    let next: [number, Uint8Array] | null = null;
    if (type === DOCUMENT || type === ARRAY) {
      const inner = rewrite(value, fn);
      if (inner !== value) next = [type, inner];
    } else {
      next = fn(type, value);
    }
    if (next) {
      changed = true;
      parts.push(new Uint8Array([next[0]]), name, next[1]);
    } else {
      parts.push(doc.subarray(nameOffset - 1, offset + length));
    }
  }
  if (!changed) return doc;
  const total = 4 + parts.reduce((n, p) => n + p.length, 0) + 1;
  const out = new Uint8Array(total);
  new DataView(out.buffer).setInt32(0, total, true);
  let at = 4;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out[at] = 0;
  return out;
}

/** Decimal128 → Binary(0x80); returns `doc` itself when it holds none. */
export function encodeDecimals(doc: Uint8Array): Uint8Array {
  return rewrite(doc, (type, value) => {
    if (type !== DECIMAL) return null;
    const bin = new Uint8Array(4 + 1 + 16);
    new DataView(bin.buffer).setInt32(0, 16, true);
    bin[4] = DECIMAL_SUBTYPE;
    bin.set(value, 5);
    return [BINARY, bin];
  });
}

/** Binary(0x80, 16 bytes) → Decimal128; returns `doc` itself when it holds none. */
export function decodeDecimals(doc: Uint8Array): Uint8Array {
  return rewrite(doc, (type, value) => {
    if (type !== BINARY || value.length !== 21 || value[4] !== DECIMAL_SUBTYPE) return null;
    return [DECIMAL, value.slice(5)];
  });
}
