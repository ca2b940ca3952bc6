/**
 * MongoDB wire framing (TEST SUPPORT): OP_MSG, legacy OP_QUERY/OP_REPLY, raw BSON edits.
 *
 * Raw edits (append/strip top-level fields) keep every other byte as it was, so values such as
 * Long and Decimal128 pass through untouched.
 */
import { deserialize, type Document, onDemand, serialize } from "bson";

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

export const FLAG_CHECKSUM_PRESENT = 1 << 0;
export const FLAG_MORE_TO_COME = 1 << 1;
export const FLAG_EXHAUST_ALLOWED = 1 << 16;

/** Options that keep BSON types exact when decoding (Int32/Double/Long stay wrapped). */
export const EXACT = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
} as const;

export interface Header {
  messageLength: number;
  requestID: number;
  responseTo: number;
  opCode: number;
}

export interface OpMsg {
  flagBits: number;
  /** Raw bytes of the kind-0 body. */
  body: Uint8Array;
  /** Kind-1 document sequences by identifier, each document as raw bytes. */
  sequences: Map<string, Uint8Array[]>;
}

export interface OpQuery {
  flags: number;
  fullCollectionName: string;
  query: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function readHeader(bytes: Uint8Array): Header {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    messageLength: v.getInt32(0, true),
    requestID: v.getInt32(4, true),
    responseTo: v.getInt32(8, true),
    opCode: v.getInt32(12, true),
  };
}

function int32At(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(at, true);
}

function cstringAt(bytes: Uint8Array, at: number): [string, number] {
  const end = bytes.indexOf(0, at);
  if (end < 0) throw new RangeError("Cannot parse wire message: unterminated cstring");
  return [dec.decode(bytes.subarray(at, end)), end + 1];
}

/** Parses a whole OP_MSG message (header included). */
export function parseOpMsg(msg: Uint8Array): OpMsg {
  const flagBits = int32At(msg, 16) >>> 0;
  const end = msg.length - ((flagBits & FLAG_CHECKSUM_PRESENT) ? 4 : 0);
  let at = 20;
  let body: Uint8Array | undefined;
  const sequences = new Map<string, Uint8Array[]>();
  while (at < end) {
    const kind = msg[at++];
    if (kind === 0) {
      const len = int32At(msg, at);
      body = msg.subarray(at, at + len);
      at += len;
    } else if (kind === 1) {
      const size = int32At(msg, at);
      const stop = at + size;
      const [id, next] = cstringAt(msg, at + 4);
      const docs: Uint8Array[] = [];
      let p = next;
      while (p < stop) {
        const len = int32At(msg, p);
        docs.push(msg.subarray(p, p + len));
        p += len;
      }
      sequences.set(id, docs);
      at = stop;
    } else {
      throw new RangeError(`Cannot parse OP_MSG: unknown section kind ${kind}`);
    }
  }
  if (!body) throw new RangeError("Cannot parse OP_MSG: no kind-0 body section");
  return { flagBits, body, sequences };
}

/** Serializes an OP_MSG (never with a checksum). */
export function encodeOpMsg(
  requestID: number,
  responseTo: number,
  flagBits: number,
  body: Uint8Array,
  sequences?: Map<string, Uint8Array[]>,
): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([0]), body];
  for (const [id, docs] of sequences ?? []) {
    const idBytes = enc.encode(id);
    const size = 4 + idBytes.length + 1 + docs.reduce((n, d) => n + d.length, 0);
    const head = new Uint8Array(1 + 4);
    head[0] = 1;
    new DataView(head.buffer).setInt32(1, size, true);
    parts.push(head, idBytes, new Uint8Array([0]), ...docs);
  }
  const total = 20 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setInt32(0, total, true);
  v.setInt32(4, requestID, true);
  v.setInt32(8, responseTo, true);
  v.setInt32(12, OP_MSG, true);
  v.setUint32(16, (flagBits & ~FLAG_CHECKSUM_PRESENT) >>> 0, true);
  let at = 20;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Parses the parts of OP_QUERY the handshake needs. */
export function parseOpQuery(msg: Uint8Array): OpQuery {
  const flags = int32At(msg, 16);
  const [fullCollectionName, next] = cstringAt(msg, 20);
  const at = next + 8; // numberToSkip, numberToReturn
  const len = int32At(msg, at);
  return { flags, fullCollectionName, query: msg.subarray(at, at + len) };
}

/** Serializes an OP_REPLY with one document (legacy handshake answer). */
export function encodeOpReply(requestID: number, responseTo: number, doc: Uint8Array): Uint8Array {
  const total = 16 + 20 + doc.length;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setInt32(0, total, true);
  v.setInt32(4, requestID, true);
  v.setInt32(8, responseTo, true);
  v.setInt32(12, OP_REPLY, true);
  v.setInt32(16, 0, true); // responseFlags
  v.setBigInt64(20, 0n, true); // cursorID
  v.setInt32(28, 0, true); // startingFrom
  v.setInt32(32, 1, true); // numberReturned
  out.set(doc, 36);
  return out;
}

/** Top-level field names of a BSON document, in order. */
export function fieldNames(doc: Uint8Array): string[] {
  const names: string[] = [];
  for (const [, nameOffset, nameLength] of onDemand.parseToElements(doc)) {
    names.push(dec.decode(doc.subarray(nameOffset, nameOffset + nameLength)));
  }
  return names;
}

/** Copies `doc` without the named top-level fields; returns `doc` itself when none is present. */
export function stripFields(doc: Uint8Array, names: ReadonlySet<string>): Uint8Array {
  const keep: Uint8Array[] = [];
  let removed = false;
  for (const [, nameOffset, nameLength, offset, length] of onDemand.parseToElements(doc)) {
    const name = dec.decode(doc.subarray(nameOffset, nameOffset + nameLength));
    if (names.has(name)) removed = true;
    else keep.push(doc.subarray(nameOffset - 1, offset + length));
  }
  return removed ? assemble(keep) : doc;
}

/** Appends the fields of `extra` to `doc` (raw), skipping names `doc` already has. */
export function appendFields(doc: Uint8Array, extra: Document): Uint8Array {
  const have = new Set(fieldNames(doc));
  const add: Document = {};
  for (const [k, val] of Object.entries(extra)) if (!have.has(k)) add[k] = val;
  const extraBytes = serialize(add);
  if (extraBytes.length === 5) return doc;
  return assemble([doc.subarray(4, doc.length - 1), extraBytes.subarray(4, extraBytes.length - 1)]);
}

function assemble(elements: Uint8Array[]): Uint8Array {
  const total = 4 + elements.reduce((n, e) => n + e.length, 0) + 1;
  const out = new Uint8Array(total);
  new DataView(out.buffer).setInt32(0, total, true);
  let at = 4;
  for (const e of elements) {
    out.set(e, at);
    at += e.length;
  }
  out[at] = 0;
  return out;
}

/** Decodes with plain JS values (for reading command options). */
export function plain(doc: Uint8Array): Document {
  return deserialize(doc);
}

/** Decodes keeping BSON types exact (for documents that are written back out). */
export function exact(doc: Uint8Array): Document {
  return deserialize(doc, EXACT);
}

/** Buffers a byte stream and yields whole wire messages. */
export class MessageReader {
  /** Received bytes not yet returned; joined only when a whole message is there. */
  #chunks: Uint8Array[] = [];
  #size = 0;
  #reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(readable: ReadableStream<Uint8Array>) {
    this.#reader = readable.getReader();
  }

  /** Next whole message, or null at end of stream. */
  async next(): Promise<Uint8Array | null> {
    let need = 4;
    while (true) {
      if (this.#size >= need) {
        const head = this.#take(4, false);
        const len = int32At(head, 0);
        if (len < 16 || len > 64 * 1024 * 1024) {
          throw new RangeError(`Cannot read wire message: bad length ${len}`);
        }
        if (this.#size >= len) return this.#take(len, true);
        need = len;
      }
      const { value, done } = await this.#reader.read();
      if (done) return null;
      this.#chunks.push(value);
      this.#size += value.length;
    }
  }

  /** Copies the first `n` buffered bytes, removing them when `consume`. */
  #take(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    let k = 0;
    while (at < n) {
      const c = this.#chunks[k];
      const part = Math.min(c.length, n - at);
      out.set(c.subarray(0, part), at);
      at += part;
      if (consume && part === c.length) {
        k++;
      } else if (consume) {
        this.#chunks[k] = c.subarray(part);
      } else {
        k++;
      }
    }
    if (consume) {
      this.#chunks.splice(0, k);
      this.#size -= n;
    }
    return out;
  }
}
