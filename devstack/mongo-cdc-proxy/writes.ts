/**
 * Write interception (TEST SUPPORT): every insert/update/delete/findAndModify runs under one
 * global lock so change events are ordered; pre-images are read before the write and
 * post-images after it, by `_id`, from FerretDB itself.
 */
import { type Document, ObjectId, serialize } from "bson";
import type { ChangeLog, NewEvent } from "./changelog.ts";
import { checkOk, STRIP_FIELDS, type Upstream } from "./upstream.ts";
import { exact } from "./wire.ts";

export const WRITE_COMMANDS: ReadonlySet<string> = new Set([
  "insert",
  "update",
  "delete",
  "findAndModify",
  "findandmodify",
]);

interface WriteRequest {
  upstream: Upstream;
  db: string;
  name: string;
  /** Body decoded exactly, with kind-1 sequences merged in as arrays. */
  body: Document;
}

export class WriteInterceptor {
  #log: ChangeLog;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(log: ChangeLog) {
    this.#log = log;
  }

  /** Runs one write command; returns the reply body to send to the client. */
  run(req: WriteRequest): Promise<Document> {
    const go = async () => {
      const before = this.#log.lastSeq;
      const reply = await this.#dispatch(req);
      // A write with no visible change still advances the clock (its operationTime).
      if (this.#log.lastSeq === before) this.#log.clock.tick();
      return reply;
    };
    const run = this.#lock.then(go, go);
    this.#lock = run.catch(() => {});
    return run;
  }

  #dispatch(req: WriteRequest): Promise<Document> {
    switch (req.name) {
      case "insert":
        return this.#insert(req);
      case "update":
        return this.#update(req);
      case "delete":
        return this.#delete(req);
      default:
        return this.#findAndModify(req);
    }
  }

  async #insert({ upstream, db, body }: WriteRequest): Promise<Document> {
    const coll = String(body.insert);
    const docs: Document[] = (body.documents ?? []).map((d: Document) =>
      "_id" in d ? d : { _id: new ObjectId(), ...d }
    );
    const reply = await upstream.command(db, { ...options(body), documents: docs });
    if (!isOk(reply)) return reply;
    const errors = new Set<number>((reply.writeErrors ?? []).map((e: Document) => num(e.index)));
    const ordered = body.ordered === undefined || body.ordered === true;
    const firstError = errors.size ? Math.min(...errors) : docs.length;
    docs.forEach((doc, k) => {
      if (ordered ? k >= firstError : errors.has(k)) return;
      this.#emitInsert(db, coll, doc);
    });
    return reply;
  }

  async #update({ upstream, db, body }: WriteRequest): Promise<Document> {
    const coll = String(body.update);
    const ordered = body.ordered === undefined || body.ordered === true;
    const total: Document = { n: 0, nModified: 0 };
    const upserted: Document[] = [];
    const writeErrors: Document[] = [];
    for (const [k, stmt] of (body.updates as Document[]).entries()) {
      const multi = stmt.multi === true;
      const pre = await upstream.findAll(db, coll, {
        filter: stmt.q ?? {},
        ...(multi ? {} : { limit: 1 }),
        ...(stmt.collation ? { collation: stmt.collation } : {}),
      });
      // Pin a single update to the document we read, so the images belong to it.
      const q = !multi && pre.length ? pinnedTo(stmt.q, pre[0]._id) : stmt.q;
      const reply = await upstream.command(db, {
        ...options(body),
        updates: [{ ...stmt, q }],
        ordered: true,
      });
      if (!isOk(reply)) return reply;
      total.n += num(reply.n);
      total.nModified += num(reply.nModified);
      for (const u of reply.upserted ?? []) upserted.push({ index: k, _id: u._id });
      for (const e of reply.writeErrors ?? []) writeErrors.push({ ...e, index: k });
      const replacement = isReplacement(stmt.u);
      await this.#emitChanges(upstream, db, coll, pre, replacement);
      for (const u of reply.upserted ?? []) await this.#emitInsertOf(upstream, db, coll, u._id);
      if (ordered && reply.writeErrors?.length) break;
    }
    return {
      ...total,
      ...(upserted.length ? { upserted } : {}),
      ...(writeErrors.length ? { writeErrors } : {}),
      ok: 1,
    };
  }

  async #delete({ upstream, db, body }: WriteRequest): Promise<Document> {
    const coll = String(body.delete);
    const ordered = body.ordered === undefined || body.ordered === true;
    let n = 0;
    const writeErrors: Document[] = [];
    for (const [k, stmt] of (body.deletes as Document[]).entries()) {
      const one = num(stmt.limit) === 1;
      const pre = await upstream.findAll(db, coll, {
        filter: stmt.q ?? {},
        ...(one ? { limit: 1 } : {}),
        ...(stmt.collation ? { collation: stmt.collation } : {}),
      });
      const q = one && pre.length ? pinnedTo(stmt.q, pre[0]._id) : stmt.q;
      const reply = await upstream.command(db, {
        ...options(body),
        deletes: [{ ...stmt, q }],
        ordered: true,
      });
      if (!isOk(reply)) return reply;
      n += num(reply.n);
      for (const e of reply.writeErrors ?? []) writeErrors.push({ ...e, index: k });
      await this.#emitChanges(upstream, db, coll, pre, false);
      if (ordered && reply.writeErrors?.length) break;
    }
    return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
  }

  async #findAndModify({ upstream, db, body }: WriteRequest): Promise<Document> {
    const coll = String(body.findAndModify ?? body.findandmodify);
    const [pre] = await upstream.findAll(db, coll, {
      filter: body.query ?? {},
      limit: 1,
      ...(body.sort ? { sort: body.sort } : {}),
      ...(body.collation ? { collation: body.collation } : {}),
    });
    const query = pre ? pinnedTo(body.query, pre._id) : body.query;
    const reply = await upstream.command(db, { ...options(body), ...(query ? { query } : {}) });
    if (!isOk(reply)) return reply;
    const upsertedId = reply.lastErrorObject?.upserted;
    if (pre) await this.#emitChanges(upstream, db, coll, [pre], isReplacement(body.update));
    if (upsertedId !== undefined) await this.#emitInsertOf(upstream, db, coll, upsertedId);
    return reply;
  }

  /** Compares pre-images with what FerretDB now holds and records update/replace/delete. */
  async #emitChanges(
    upstream: Upstream,
    db: string,
    coll: string,
    pre: Document[],
    replacement: boolean,
  ): Promise<void> {
    if (!pre.length) return;
    // FerretDB scans the whole collection for `$in`; one `_id` with a limit uses its index.
    const post = pre.length === 1
      ? await upstream.findAll(db, coll, { filter: { _id: pre[0]._id }, limit: 1 })
      : await upstream.findAll(db, coll, { filter: { _id: { $in: pre.map((d) => d._id) } } });
    const byId = new Map(post.map((d) => [key(d._id), d]));
    for (const before of pre) {
      const after = byId.get(key(before._id));
      const documentKey = { _id: before._id };
      if (!after) {
        this.#emit({
          operationType: "delete",
          db,
          coll,
          documentKey,
          fullDocumentBeforeChange: before,
        });
        continue;
      }
      const diff = topLevelDiff(before, after);
      if (!diff) continue; // no-op writes leave no oplog entry in MongoDB either
      this.#emit({
        operationType: replacement ? "replace" : "update",
        db,
        coll,
        documentKey,
        fullDocument: after,
        fullDocumentBeforeChange: before,
        ...(replacement ? {} : { updateDescription: diff }),
      });
    }
  }

  async #emitInsertOf(upstream: Upstream, db: string, coll: string, id: unknown): Promise<void> {
    const [doc] = await upstream.findAll(db, coll, { filter: { _id: id }, limit: 1 });
    if (doc) this.#emitInsert(db, coll, doc);
  }

  #emitInsert(db: string, coll: string, doc: Document): void {
    this.#emit({
      operationType: "insert",
      db,
      coll,
      documentKey: { _id: doc._id },
      fullDocument: doc,
    });
  }

  #emit(e: NewEvent): void {
    this.#log.append(e);
  }
}

/** The command minus what FerretDB must not see. */
function options(body: Document): Document {
  const out: Document = {};
  for (const [k, v] of Object.entries(body)) {
    if (!STRIP_FIELDS.has(k) && k !== "$db" && k !== "lsid") out[k] = v;
  }
  return out;
}

function isOk(reply: Document): boolean {
  try {
    checkOk(reply);
    return true;
  } catch {
    return false;
  }
}

function num(v: unknown): number {
  return v === undefined || v === null ? 0 : Number((v as { valueOf(): unknown }).valueOf());
}

/**
 * `filter` narrowed to the document `_id`. A filter that already is `{_id: <that value>}` is
 * kept as it is: FerretDB finds a string or ObjectId `_id` by its index only in that form, and
 * scans the whole collection for the `$and`.
 */
function pinnedTo(filter: Document | undefined, id: unknown): Document {
  const keys = filter ? Object.keys(filter) : [];
  if (keys.length === 1 && keys[0] === "_id" && key(filter!._id) === key(id)) return filter!;
  return { $and: [filter ?? {}, { _id: id }] };
}

function isReplacement(u: unknown): boolean {
  if (!u || typeof u !== "object" || Array.isArray(u)) return false;
  const keys = Object.keys(u);
  return keys.length === 0 || !keys[0].startsWith("$");
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function key(v: unknown): string {
  return hex(serialize({ v }));
}

/** Top-level diff: enough for orderstats, which reads whole documents. */
export function topLevelDiff(
  before: Document,
  after: Document,
): { updatedFields: Document; removedFields: string[]; truncatedArrays: [] } | null {
  const updatedFields: Document = {};
  const removedFields: string[] = [];
  let changed = false;
  for (const [k, v] of Object.entries(after)) {
    if (!(k in before) || key(before[k]) !== key(v)) {
      updatedFields[k] = v;
      changed = true;
    }
  }
  for (const k of Object.keys(before)) {
    if (!(k in after)) {
      removedFields.push(k);
      changed = true;
    }
  }
  // Field order alone can change the stored bytes of a replacement.
  if (!changed && hex(serialize(before)) !== hex(serialize(after))) changed = true;
  return changed ? { updatedFields, removedFields, truncatedArrays: [] } : null;
}

/** Decodes kind-1 sequences into the body so write handlers see one document. */
export function mergeSequences(body: Uint8Array, sequences: Map<string, Uint8Array[]>): Document {
  const doc = exact(body);
  for (const [id, docs] of sequences) doc[id] = docs.map(exact);
  return doc;
}
