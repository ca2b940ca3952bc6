/** Wire codec, Decimal128 transcoding, tokens and history of devstack/mongo-cdc-proxy. */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Decimal128, deserialize, Long, serialize } from "bson";
import {
  appendFields,
  encodeOpMsg,
  encodeOpReply,
  FLAG_MORE_TO_COME,
  MessageReader,
  OP_REPLY,
  parseOpMsg,
  readHeader,
  stripFields,
} from "../../devstack/mongo-cdc-proxy/wire.ts";
import { decodeDecimals, encodeDecimals } from "../../devstack/mongo-cdc-proxy/decimal.ts";
import {
  compareTime,
  decodeToken,
  encodeToken,
  LogicalClock,
  TOKEN_EVENT,
  TOKEN_HIGH_WATER_MARK,
} from "../../devstack/mongo-cdc-proxy/clock.ts";
import { ChangeLog, HistoryLostError } from "../../devstack/mongo-cdc-proxy/changelog.ts";
import { matches } from "../../devstack/mongo-cdc-proxy/change_streams.ts";
import { topLevelDiff } from "../../devstack/mongo-cdc-proxy/writes.ts";

function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(Buffer.compare(actual, expected), 0);
}

Deno.test("OP_MSG round-trips a body and a kind-1 document sequence", () => {
  const body = serialize({ insert: "orders", $db: "shop" });
  const docs = [serialize({ _id: 1 }), serialize({ _id: 2, big: Long.fromString("9") })];
  const msg = encodeOpMsg(7, 3, FLAG_MORE_TO_COME, body, new Map([["documents", docs]]));
  assert.deepEqual(readHeader(msg), {
    messageLength: msg.length,
    requestID: 7,
    responseTo: 3,
    opCode: 2013,
  });
  const op = parseOpMsg(msg);
  assert.equal(op.flagBits, FLAG_MORE_TO_COME);
  assertBytes(op.body, body);
  const seq = op.sequences.get("documents") ?? [];
  assert.equal(seq.length, 2);
  seq.forEach((d, k) => assertBytes(d, docs[k]));
});

Deno.test("parseOpMsg() ignores a trailing checksum", () => {
  const body = serialize({ ping: 1, $db: "admin" });
  const plain = encodeOpMsg(1, 0, 0, body);
  const withSum = new Uint8Array(plain.length + 4);
  withSum.set(plain);
  const v = new DataView(withSum.buffer);
  v.setInt32(0, withSum.length, true);
  v.setUint32(16, 1, true); // checksumPresent
  assertBytes(parseOpMsg(withSum).body, body);
});

Deno.test("encodeOpReply() answers a legacy handshake with one document", () => {
  const doc = serialize({ ismaster: true, ok: 1 });
  const reply = encodeOpReply(5, 9, doc);
  assert.equal(readHeader(reply).opCode, OP_REPLY);
  assert.equal(readHeader(reply).responseTo, 9);
  assert.equal(new DataView(reply.buffer).getInt32(32, true), 1);
  assert.deepEqual(deserialize(reply.subarray(36)), { ismaster: true, ok: 1 });
});

Deno.test("stripFields() and appendFields() keep the other bytes as they were", () => {
  const doc = serialize({
    find: "x",
    txnNumber: Long.fromNumber(1),
    d: Decimal128.fromString("1.5"),
  });
  const stripped = stripFields(doc, new Set(["txnNumber"]));
  assert.deepEqual(Object.keys(deserialize(stripped)), ["find", "d"]);
  assert.equal(stripFields(stripped, new Set(["nope"])), stripped);
  const appended = appendFields(stripped, { operationTime: 1, find: "ignored" });
  assert.deepEqual(deserialize(appended, { promoteValues: false }).d.toString(), "1.5");
  assert.deepEqual(Object.keys(deserialize(appended)), ["find", "d", "operationTime"]);
});

Deno.test("MessageReader splits and joins chunked messages", async () => {
  const a = encodeOpMsg(1, 0, 0, serialize({ a: 1 }));
  const b = encodeOpMsg(2, 0, 0, serialize({ b: "x".repeat(300) }));
  const all = new Uint8Array([...a, ...b]);
  const chunks = [all.subarray(0, 3), all.subarray(3, 40), all.subarray(40)];
  const reader = new MessageReader(ReadableStream.from(chunks));
  assertBytes((await reader.next())!, a);
  assertBytes((await reader.next())!, b);
  assert.equal(await reader.next(), null);
});

Deno.test("Decimal128 survives the trip through FerretDB's Binary stand-in", () => {
  const doc = serialize({ a: Decimal128.fromString("-0.10"), l: [Decimal128.fromString("7")] });
  const enc = encodeDecimals(doc);
  assert.notDeepEqual(enc, doc);
  assertBytes(decodeDecimals(enc), doc);
  const none = serialize({ a: 1 });
  assert.equal(encodeDecimals(none), none);
});

Deno.test("tokens carry the cluster time in bytes 1..8 and sort as strings", () => {
  const e1 = encodeToken({ t: 1741186978, i: 25 }, TOKEN_EVENT, 3);
  assert.equal(e1.slice(0, 18), "8267C867A200000019");
  assert.equal(e1, e1.toUpperCase());
  // As in MongoDB, a high-water mark at T sorts before an event at T: it has not seen it.
  const e0 = encodeToken({ t: 1741186978, i: 24 }, TOKEN_EVENT, 2);
  const hwm = encodeToken({ t: 1741186978, i: 25 }, TOKEN_HIGH_WATER_MARK, 2);
  const e2 = encodeToken({ t: 1741186978, i: 26 }, TOKEN_EVENT, 4);
  assert.ok(e0 < hwm && hwm < e1 && e1 < e2);
  assert.deepEqual(decodeToken(e2), { time: { t: 1741186978, i: 26 }, kind: TOKEN_EVENT, seq: 4 });
  assert.throws(() => decodeToken("nonsense"), TypeError);
});

Deno.test("LogicalClock ticks strictly increase within and across seconds", () => {
  let now = 1_000_000;
  const clock = new LogicalClock(() => now);
  const a = clock.tick();
  const b = clock.tick();
  now += 1000;
  const c = clock.tick();
  assert.deepEqual([a, b, c], [{ t: 1000, i: 2 }, { t: 1000, i: 3 }, { t: 1001, i: 1 }]);
});

Deno.test("LogicalClock.next() is one tick past the last time: what the next write gets", () => {
  let now = 1_000_000;
  const clock = new LogicalClock(() => now);
  clock.tick();
  const next = clock.next();
  assert.deepEqual(next, { t: 1000, i: 3 });
  assert.deepEqual(clock.tick(), next, "a write in the same second gets exactly next()");
  const later = clock.next();
  now += 1000;
  assert.ok(compareTime(clock.tick(), later) > 0, "a write in a later second gets more");
});

Deno.test("ChangeLog resumes by time and reports trimmed history", () => {
  let now = 5_000_000;
  const log = new ChangeLog(new LogicalClock(() => now), 10);
  const ev = () => ({
    operationType: "insert" as const,
    db: "d",
    coll: "c",
    documentKey: { _id: 1 },
  });
  const first = log.append(ev());
  const second = log.append(ev());
  assert.equal(log.positionFor(first.time, false), 1);
  assert.equal(log.positionFor(first.time, true), 0);
  assert.deepEqual(log.since(1, 10).map((e) => e.seq), [second.seq]);
  now += 1000;
  for (let k = 0; k < 20; k++) log.append(ev());
  assert.throws(() => log.since(0, 10), HistoryLostError);
  assert.throws(() => log.positionFor(first.time, false), HistoryLostError);
  assert.throws(() => log.positionFor({ t: 1, i: 1 }, true), HistoryLostError);
});

Deno.test("$match subset: equality, $in and dotted paths", () => {
  const doc = { operationType: "insert", ns: { db: "d", coll: "orders" }, n: Long.fromNumber(3) };
  assert.ok(matches(doc, { operationType: { $in: ["insert", "update"] }, "ns.coll": "orders" }));
  assert.ok(matches(doc, { n: 3 }));
  assert.ok(!matches(doc, { $or: [{ "ns.db": "x" }, { operationType: "delete" }] }));
  assert.ok(matches(doc, { missing: { $exists: false } }));
});

Deno.test("topLevelDiff() reports changed and removed fields only", () => {
  assert.deepEqual(topLevelDiff({ _id: 1, a: 1, b: 2 }, { _id: 1, a: 1, c: 3 }), {
    updatedFields: { c: 3 },
    removedFields: ["b"],
    truncatedArrays: [],
  });
  assert.equal(topLevelDiff({ _id: 1, a: 1 }, { _id: 1, a: 1 }), null);
});
