/**
 * One client connection (TEST SUPPORT): answers the handshake, change-stream commands and
 * writes itself; forwards everything else to FerretDB, byte-for-byte unless a field must go.
 */
import { Binary, type Document, Long, serialize } from "bson";
import {
  type ChangeStreams,
  CommandError,
  isChangeStreamAggregate,
  isProxyCursorId,
} from "./change_streams.ts";
import type { ChangeLog } from "./changelog.ts";
import { decodeDecimals, encodeDecimals } from "./decimal.ts";
import { toTimestamp } from "./clock.ts";
import { helloReply, isHello } from "./topology.ts";
import { STRIP_FIELDS, Upstream } from "./upstream.ts";
import {
  appendFields,
  encodeOpMsg,
  encodeOpReply,
  exact,
  FLAG_CHECKSUM_PRESENT,
  FLAG_EXHAUST_ALLOWED,
  FLAG_MORE_TO_COME,
  type Header,
  MessageReader,
  OP_MSG,
  OP_QUERY,
  type OpMsg,
  parseOpMsg,
  parseOpQuery,
  plain,
  readHeader,
  stripFields,
} from "./wire.ts";
import { mergeSequences, WRITE_COMMANDS, type WriteInterceptor } from "./writes.ts";

export interface ProxyContext {
  /** "host:port" the driver should see as the replica set member. */
  listenHost: string;
  upstream: { hostname: string; port: number };
  log: ChangeLog;
  writes: WriteInterceptor;
  streams: ChangeStreams;
  verbose: boolean;
}

let nextConnectionId = 1;
let nextRequestId = 1;

export class ClientConnection {
  #conn: Deno.TcpConn;
  #ctx: ProxyContext;
  #upstream: Upstream;
  #id = nextConnectionId++;
  #writeChain: Promise<unknown> = Promise.resolve();
  #closed = new AbortController();

  constructor(conn: Deno.TcpConn, ctx: ProxyContext) {
    this.#conn = conn;
    this.#ctx = ctx;
    this.#upstream = new Upstream(ctx.upstream);
  }

  async serve(): Promise<void> {
    const reader = new MessageReader(this.#conn.readable);
    try {
      while (true) {
        const msg = await reader.next();
        if (!msg) break;
        await this.#handle(msg);
      }
    } catch (e) {
      if (this.#ctx.verbose) console.error(`conn ${this.#id}:`, e);
    } finally {
      this.#closed.abort();
      this.#upstream.close();
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
    }
  }

  #send(bytes: Uint8Array): Promise<void> {
    const run = this.#writeChain.then(async () => {
      const w = this.#conn.writable.getWriter();
      try {
        await w.write(bytes);
      } finally {
        w.releaseLock();
      }
    });
    this.#writeChain = run.catch(() => {});
    return run;
  }

  #clusterFields(): Document {
    const ts = toTimestamp(this.#ctx.log.clock.current());
    return {
      $clusterTime: {
        clusterTime: ts,
        signature: { hash: new Binary(new Uint8Array(20), 0), keyId: Long.fromNumber(0) },
      },
      operationTime: ts,
    };
  }

  async #handle(msg: Uint8Array): Promise<void> {
    const h = readHeader(msg);
    if (h.opCode === OP_QUERY) return await this.#handleQuery(h, msg);
    if (h.opCode !== OP_MSG) {
      // Anything else (legacy opcodes): FerretDB decides.
      const reply = await this.#upstream.send(msg, true);
      if (reply) await this.#send(reply);
      return;
    }
    const op = parseOpMsg(msg);
    const body = plain(op.body);
    const name = Object.keys(body)[0];
    const db = String(body.$db ?? "admin");
    if (this.#ctx.verbose) console.error(`conn ${this.#id} ${db}.${name}`);
    let reply: Document;
    try {
      if (isHello(name)) return await this.#hello(h, op, body, name);
      if (WRITE_COMMANDS.has(name)) {
        reply = await this.#ctx.writes.run({
          upstream: this.#upstream,
          db,
          name,
          body: mergeSequences(op.body, op.sequences),
        });
      } else if (name === "aggregate" && isChangeStreamAggregate(body)) {
        reply = this.#ctx.streams.aggregate(db, exact(op.body));
      } else if (name === "getMore" && isProxyCursorId(exact(op.body).getMore)) {
        reply = await this.#ctx.streams.getMore(exact(op.body));
      } else if (name === "killCursors" && hasProxyCursor(exact(op.body).cursors)) {
        reply = await this.#killCursors(op);
      } else if (name === "endSessions") {
        reply = { ok: 1 }; // sessions are the driver's bookkeeping here
      } else {
        return await this.#forward(h, op, msg);
      }
    } catch (e) {
      reply = errorReply(e);
    }
    if (op.flagBits & FLAG_MORE_TO_COME) return; // unacknowledged: no reply expected
    await this.#reply(h, 0, { ...reply, ...this.#clusterFields() });
  }

  #reply(h: Header, flags: number, doc: Document): Promise<void> {
    return this.#send(encodeOpMsg(nextRequestId++, h.requestID, flags, serialize(doc)));
  }

  async #forward(h: Header, op: OpMsg, original: Uint8Array): Promise<void> {
    const body = encodeDecimals(stripFields(op.body, STRIP_FIELDS));
    let same = body === op.body && !(op.flagBits & FLAG_CHECKSUM_PRESENT);
    const sequences = new Map<string, Uint8Array[]>();
    for (const [id, docs] of op.sequences) {
      const encoded = docs.map(encodeDecimals);
      same &&= encoded.every((d, k) => d === docs[k]);
      sequences.set(id, encoded);
    }
    const msg = same
      ? original
      : encodeOpMsg(h.requestID, h.responseTo, op.flagBits, body, sequences);
    const expectReply = !(op.flagBits & FLAG_MORE_TO_COME);
    const reply = await this.#upstream.send(msg, expectReply);
    if (!reply) return;
    const rh = readHeader(reply);
    if (rh.opCode !== OP_MSG) return await this.#send(reply);
    const r = parseOpMsg(reply);
    const out = appendFields(decodeDecimals(r.body), this.#clusterFields());
    await this.#send(encodeOpMsg(rh.requestID, rh.responseTo, r.flagBits, out, r.sequences));
  }

  /** Kills the proxy's own cursors here and any FerretDB ones upstream. */
  async #killCursors(op: OpMsg): Promise<Document> {
    const body = exact(op.body);
    const { killed, others } = this.#ctx.streams.kill(body.cursors ?? []);
    let upstream: Document = { cursorsKilled: [], cursorsNotFound: [] };
    if (others.length) {
      upstream = await this.#upstream.command(String(body.$db), {
        killCursors: body.killCursors,
        cursors: others,
      });
    }
    return {
      cursorsKilled: [...killed, ...(upstream.cursorsKilled ?? [])],
      cursorsNotFound: upstream.cursorsNotFound ?? [],
      cursorsAlive: [],
      cursorsUnknown: [],
      ok: 1,
    };
  }

  async #hello(h: Header, op: OpMsg, body: Document, name: string): Promise<void> {
    const doc = () => ({
      ...helloReply({
        commandName: name,
        helloOk: body.helloOk === true,
        host: this.#ctx.listenHost,
        connectionId: this.#id,
        now: this.#ctx.log.clock.current(),
      }),
      ...this.#clusterFields(),
    });
    const awaitable = body.topologyVersion && body.maxAwaitTimeMS !== undefined;
    if (!awaitable) return await this.#reply(h, 0, doc());
    // Streaming monitor: our topology never changes, so answer every maxAwaitTimeMS; with
    // exhaustAllowed keep answering (moreToCome) until the client goes away.
    const wait = Number(body.maxAwaitTimeMS);
    const exhaust = (op.flagBits & FLAG_EXHAUST_ALLOWED) !== 0;
    const stream = async () => {
      do {
        if (!(await this.#sleep(wait))) return;
        await this.#reply(h, exhaust ? FLAG_MORE_TO_COME : 0, doc());
      } while (exhaust);
    };
    // Run beside the read loop so a closed socket is noticed.
    stream().catch(() => {});
  }

  #sleep(ms: number): Promise<boolean> {
    const signal = this.#closed.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const t = setTimeout(() => {
        signal.removeEventListener("abort", stop);
        resolve(true);
      }, ms);
      const stop = () => {
        clearTimeout(t);
        resolve(false);
      };
      signal.addEventListener("abort", stop, { once: true });
    });
  }

  async #handleQuery(h: Header, msg: Uint8Array): Promise<void> {
    const q = parseOpQuery(msg);
    let query = plain(q.query);
    if (query.$query) query = query.$query;
    const name = Object.keys(query)[0] ?? "";
    if (!q.fullCollectionName.endsWith(".$cmd") || !isHello(name)) {
      const reply = await this.#upstream.send(msg, true);
      if (reply) await this.#send(reply);
      return;
    }
    const doc = {
      ...helloReply({
        commandName: name,
        helloOk: query.helloOk === true,
        host: this.#ctx.listenHost,
        connectionId: this.#id,
        now: this.#ctx.log.clock.current(),
      }),
      ...this.#clusterFields(),
    };
    await this.#send(encodeOpReply(nextRequestId++, h.requestID, serialize(doc)));
  }
}

function hasProxyCursor(ids: unknown): boolean {
  return Array.isArray(ids) && ids.some(isProxyCursorId);
}

function errorReply(e: unknown): Document {
  if (e instanceof CommandError) {
    return { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName };
  }
  const reply = (e as { reply?: Document }).reply;
  if (reply) return reply;
  return {
    ok: 0,
    errmsg: `mongo-cdc-proxy: ${(e as Error).message}`,
    code: 1,
    codeName: "InternalError",
  };
}
