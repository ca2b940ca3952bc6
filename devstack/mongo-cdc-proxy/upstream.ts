/**
 * One FerretDB connection per client connection (TEST SUPPORT). Requests are strictly
 * one-at-a-time, which is how the driver uses a connection anyway.
 */
import { type Document, serialize } from "bson";
import { decodeDecimals, encodeDecimals } from "./decimal.ts";
import { encodeOpMsg, exact, MessageReader, OP_MSG, parseOpMsg, readHeader } from "./wire.ts";

/** Top-level command fields FerretDB does not understand or that only the proxy may act on. */
export const STRIP_FIELDS: ReadonlySet<string> = new Set([
  "$clusterTime",
  "txnNumber",
  "autocommit",
  "startTransaction",
  "readConcern",
]);

export class UpstreamError extends Error {}

export class Upstream {
  #addr: { hostname: string; port: number };
  #conn: Deno.TcpConn | undefined;
  #reader: MessageReader | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #nextId = 1;

  constructor(addr: { hostname: string; port: number }) {
    this.#addr = addr;
  }

  async #connect(): Promise<void> {
    if (this.#conn) return;
    this.#conn = await Deno.connect({ ...this.#addr, transport: "tcp" });
    this.#conn.setNoDelay(true);
    this.#reader = new MessageReader(this.#conn.readable);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Sends a whole message; returns the reply, or null when the request expects none. */
  send(msg: Uint8Array, expectReply: boolean): Promise<Uint8Array | null> {
    return this.#serial(async () => {
      await this.#connect();
      const writer = this.#conn!.writable.getWriter();
      try {
        await writer.write(msg);
      } finally {
        writer.releaseLock();
      }
      if (!expectReply) return null;
      const reply = await this.#reader!.next();
      if (!reply) {
        this.close();
        throw new UpstreamError("FerretDB closed the connection");
      }
      return reply;
    });
  }

  /** Runs a command built by the proxy; returns the reply body decoded exactly. */
  async command(db: string, body: Document): Promise<Document> {
    const id = this.#nextId++;
    const msg = encodeOpMsg(id, 0, 0, encodeDecimals(serialize({ ...body, $db: db })));
    const reply = await this.send(msg, true);
    const h = readHeader(reply!);
    if (h.opCode !== OP_MSG) throw new UpstreamError(`Unexpected upstream opcode ${h.opCode}`);
    return exact(decodeDecimals(parseOpMsg(reply!).body));
  }

  /** Runs `find` and drains its cursor. */
  async findAll(db: string, coll: string, spec: Document): Promise<Document[]> {
    const first = await this.command(db, { find: coll, ...spec });
    checkOk(first);
    const docs: Document[] = [...first.cursor.firstBatch];
    let id = first.cursor.id;
    while (id && !isZero(id)) {
      const more = await this.command(db, { getMore: id, collection: coll });
      checkOk(more);
      docs.push(...more.cursor.nextBatch);
      id = more.cursor.id;
    }
    return docs;
  }

  close(): void {
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    this.#conn = undefined;
    this.#reader = undefined;
  }
}

export function isZero(id: unknown): boolean {
  return typeof id === "object" && id !== null && "isZero" in id
    ? (id as { isZero(): boolean }).isZero()
    : Number(id) === 0;
}

export function checkOk(reply: Document): void {
  if (Number(reply.ok?.valueOf()) !== 1) {
    throw Object.assign(new UpstreamError(String(reply.errmsg ?? "upstream command failed")), {
      reply,
    });
  }
}
