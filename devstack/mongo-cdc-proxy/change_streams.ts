/**
 * Change-stream cursors (TEST SUPPORT): `aggregate` with a leading `$changeStream`, their
 * `getMore` (awaitData up to maxTimeMS) and `killCursors`, served from the in-memory ChangeLog.
 */
import { type Document, EJSON, Long, Timestamp } from "bson";
import { type ChangeEvent, type ChangeLog, HistoryLostError } from "./changelog.ts";
import {
  decodeToken,
  encodeToken,
  fromTimestamp,
  TOKEN_EVENT,
  TOKEN_HIGH_WATER_MARK,
  toTimestamp,
} from "./clock.ts";

/** Proxy cursor ids live in their own range so they never collide with FerretDB's. */
const ID_BASE = 0x5c00_0000_0000_0000n;
const ID_MASK = 0xff00_0000_0000_0000n;
const DEFAULT_AWAIT_MS = 1000;
const SYSTEM_DBS = new Set(["admin", "config", "local"]);

interface Cursor {
  id: Long;
  ns: string;
  db: string;
  /** Undefined for whole-database and whole-cluster streams. */
  coll?: string;
  cluster: boolean;
  /** Seq of the last history event already scanned. */
  position: number;
  fullDocument: string;
  fullDocumentBeforeChange: string;
  match: Document[];
}

export class CommandError extends Error {
  constructor(message: string, readonly code: number, readonly codeName: string) {
    super(message);
  }
}

export function isChangeStreamAggregate(body: Document): boolean {
  const first = Array.isArray(body.pipeline) ? body.pipeline[0] : undefined;
  return !!first && typeof first === "object" && "$changeStream" in first;
}

export function isProxyCursorId(id: unknown): boolean {
  if (!(id instanceof Long) && typeof id !== "bigint" && typeof id !== "number") return false;
  const big = id instanceof Long ? id.toBigInt() : BigInt(id);
  return (BigInt.asUintN(64, big) & ID_MASK) === ID_BASE;
}

export class ChangeStreams {
  #log: ChangeLog;
  #cursors = new Map<string, Cursor>();
  #next = 1n;

  constructor(log: ChangeLog) {
    this.#log = log;
  }

  aggregate(db: string, body: Document): Document {
    const [stage, ...rest] = body.pipeline as Document[];
    const opts: Document = stage.$changeStream ?? {};
    const cluster = opts.allChangesForCluster === true;
    const collection = typeof body.aggregate === "string" ? body.aggregate : undefined;
    if (cluster && db !== "admin") {
      throw new CommandError("allChangesForCluster needs the admin database", 40415, "BadValue");
    }
    if (!cluster && !collection && db === "admin") {
      throw new CommandError(
        "$changeStream on admin needs allChangesForCluster: true",
        73,
        "InvalidNamespace",
      );
    }
    const match = rest.map((s) => {
      if (Object.keys(s).length !== 1 || !s.$match) {
        throw new CommandError(
          `mongo-cdc-proxy supports only $match after $changeStream, got ${EJSON.stringify(s)}`,
          40324,
          "UnsupportedPipelineStage",
        );
      }
      validateMatch(s.$match);
      return s.$match as Document;
    });
    const cursor: Cursor = {
      id: Long.fromBigInt(ID_BASE + this.#next++),
      ns: collection ? `${db}.${collection}` : `${db}.$cmd.aggregate`,
      db,
      coll: collection,
      cluster,
      position: this.#startPosition(opts),
      fullDocument: String(opts.fullDocument ?? "default"),
      fullDocumentBeforeChange: String(opts.fullDocumentBeforeChange ?? "off"),
      match,
    };
    this.#cursors.set(cursor.id.toString(), cursor);
    const limit = Number(body.cursor?.batchSize ?? 101);
    const { batch, token } = this.#collect(cursor, limit);
    return {
      cursor: { firstBatch: batch, postBatchResumeToken: token, id: cursor.id, ns: cursor.ns },
      ok: 1,
    };
  }

  async getMore(body: Document): Promise<Document> {
    const cursor = this.#cursors.get(String(body.getMore));
    if (!cursor) {
      throw new CommandError(`cursor id ${body.getMore} not found`, 43, "CursorNotFound");
    }
    const limit = Number(body.batchSize ?? 1000) || 1000;
    const deadline = Date.now() + Number(body.maxTimeMS ?? DEFAULT_AWAIT_MS);
    let out = this.#collect(cursor, limit);
    while (!out.batch.length && Date.now() < deadline) {
      await this.#log.waitForAppend(deadline - Date.now());
      out = this.#collect(cursor, limit);
    }
    return {
      cursor: {
        nextBatch: out.batch,
        postBatchResumeToken: out.token,
        id: cursor.id,
        ns: cursor.ns,
      },
      ok: 1,
    };
  }

  /** Forgets own cursors; returns the ids that are not the proxy's. */
  kill(ids: unknown[]): { killed: unknown[]; others: unknown[] } {
    const killed: unknown[] = [];
    const others: unknown[] = [];
    for (const id of ids) {
      if (isProxyCursorId(id)) {
        this.#cursors.delete(String(id));
        killed.push(id);
      } else {
        others.push(id);
      }
    }
    return { killed, others };
  }

  #startPosition(opts: Document): number {
    const token = opts.resumeAfter ?? opts.startAfter;
    try {
      if (token) {
        const data = String(token._data ?? "");
        let decoded;
        try {
          decoded = decodeToken(data);
        } catch (e) {
          throw new CommandError((e as Error).message, 9, "FailedToParse");
        }
        // A high-water mark has not seen events at its own time; an event token has.
        return this.#log.positionFor(decoded.time, decoded.kind === TOKEN_HIGH_WATER_MARK);
      }
      if (opts.startAtOperationTime instanceof Timestamp) {
        return this.#log.positionFor(fromTimestamp(opts.startAtOperationTime), true);
      }
      return this.#log.lastSeq;
    } catch (e) {
      if (e instanceof HistoryLostError) throw historyLost(e);
      throw e;
    }
  }

  #collect(cursor: Cursor, limit: number): { batch: Document[]; token: Document } {
    const batch: Document[] = [];
    while (true) {
      let events: ChangeEvent[];
      try {
        events = this.#log.since(cursor.position, 1000);
      } catch (e) {
        if (e instanceof HistoryLostError) throw historyLost(e);
        throw e;
      }
      if (!events.length) break;
      for (const e of events) {
        cursor.position = e.seq;
        if (!this.#visible(cursor, e)) continue;
        const doc = render(cursor, e);
        if (!cursor.match.every((m) => matches(doc, m))) continue;
        batch.push(doc);
        if (batch.length >= limit) return { batch, token: doc._id };
      }
    }
    // Scanned to the end: everything before the next cluster time has been seen. A new
    // stream's first token is thus one tick past the last issued time, as in MongoDB.
    const hwm = encodeToken(this.#log.clock.next(), TOKEN_HIGH_WATER_MARK, this.#log.lastSeq);
    return { batch, token: { _data: hwm } };
  }

  #visible(cursor: Cursor, e: ChangeEvent): boolean {
    if (cursor.cluster) return !SYSTEM_DBS.has(e.db) && !e.coll.startsWith("system.");
    if (e.db !== cursor.db) return false;
    return cursor.coll ? e.coll === cursor.coll : !e.coll.startsWith("system.");
  }
}

function historyLost(e: HistoryLostError): CommandError {
  return new CommandError(e.message, e.code, e.codeName);
}

function render(cursor: Cursor, e: ChangeEvent): Document {
  const withPost = e.operationType === "insert" || e.operationType === "replace" ||
    (e.operationType === "update" && cursor.fullDocument !== "default");
  const withPre = e.operationType !== "insert" &&
    ["whenAvailable", "required"].includes(cursor.fullDocumentBeforeChange);
  return {
    _id: { _data: encodeToken(e.time, TOKEN_EVENT, e.seq) },
    operationType: e.operationType,
    clusterTime: toTimestamp(e.time),
    wallTime: e.wallTime,
    ...(withPost ? { fullDocument: e.fullDocument ?? null } : {}),
    ns: { db: e.db, coll: e.coll },
    documentKey: e.documentKey,
    ...(e.updateDescription ? { updateDescription: e.updateDescription } : {}),
    ...(withPre ? { fullDocumentBeforeChange: e.fullDocumentBeforeChange ?? null } : {}),
  };
}

// A tiny $match: equality, $eq/$ne/$in/$nin/$exists, $and/$or/$nor, dotted paths.
const FIELD_OPS = new Set(["$eq", "$ne", "$in", "$nin", "$exists"]);

function validateMatch(m: Document): void {
  for (const [k, v] of Object.entries(m)) {
    if (k === "$and" || k === "$or" || k === "$nor") {
      (v as Document[]).forEach(validateMatch);
    } else if (k.startsWith("$")) {
      throw new CommandError(`mongo-cdc-proxy $match does not support ${k}`, 2, "BadValue");
    } else if (isOperatorDoc(v)) {
      for (const op of Object.keys(v)) {
        if (!FIELD_OPS.has(op)) {
          throw new CommandError(`mongo-cdc-proxy $match does not support ${op}`, 2, "BadValue");
        }
      }
    }
  }
}

function isOperatorDoc(v: unknown): v is Document {
  return !!v && typeof v === "object" && !Array.isArray(v) &&
    Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith("$"));
}

export function matches(doc: Document, m: Document): boolean {
  return Object.entries(m).every(([k, v]) => {
    if (k === "$and") return (v as Document[]).every((x) => matches(doc, x));
    if (k === "$or") return (v as Document[]).some((x) => matches(doc, x));
    if (k === "$nor") return !(v as Document[]).some((x) => matches(doc, x));
    const actual = lookup(doc, k);
    if (!isOperatorDoc(v)) return same(actual, v);
    return Object.entries(v).every(([op, arg]) => {
      switch (op) {
        case "$eq":
          return same(actual, arg);
        case "$ne":
          return !same(actual, arg);
        case "$in":
          return (arg as unknown[]).some((x) => same(actual, x));
        case "$nin":
          return !(arg as unknown[]).some((x) => same(actual, x));
        default: // $exists
          return (actual !== undefined) === Boolean(arg);
      }
    });
  });
}

function lookup(doc: Document, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split(".")) {
    if (!cur || typeof cur !== "object") return undefined;
    cur = (cur as Document)[part];
  }
  return cur;
}

function same(a: unknown, b: unknown): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  return EJSON.stringify(a ?? null, { relaxed: false }) ===
    EJSON.stringify(b ?? null, { relaxed: false });
}

function numeric(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && "_bsontype" in v) {
    const t = (v as { _bsontype: string })._bsontype;
    if (t === "Int32" || t === "Double" || t === "Long") return Number(v.valueOf());
  }
  return undefined;
}
