/**
 * The mongo-cdc-proxy (test support in devstack/mongo-cdc-proxy/) seen through the official
 * driver: replica-set handshake, exact values, change streams, resume tokens, sessions.
 *
 * Needs the proxy and FerretDB running; MONGO_URI points at the proxy.
 */
import assert from "node:assert/strict";
import { mongoUri } from "../../devstack/lib/env.ts";
import {
  type ChangeStream,
  type ChangeStreamDocument,
  Decimal128,
  type Document,
  Long,
  MongoClient,
  type ResumeToken,
} from "mongodb";

// MONGO_URI can point the tests at a proxy of your own; otherwise the stack's (MONGO_PORT).
const URI = Deno.env.get("MONGO_URI") ?? mongoUri();
const DB = "orderstats_proxy_test";

async function withClient(fn: (client: MongoClient) => Promise<void>): Promise<void> {
  const client = new MongoClient(URI, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    await fn(client);
  } finally {
    await client.close();
  }
}

function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
}

/** Cluster time packed in bytes 1..8 of a token's `_data`. */
function tokenTime(token: ResumeToken): bigint {
  const data = (token as { _data: string })._data;
  assert.equal(data.slice(0, 2), "82");
  return BigInt("0x" + data.slice(2, 18));
}

async function nextEvents<T extends Document>(
  stream: ChangeStream<T>,
  count: number,
): Promise<ChangeStreamDocument<T>[]> {
  const out: ChangeStreamDocument<T>[] = [];
  const deadline = Date.now() + 10_000;
  while (out.length < count && Date.now() < deadline) {
    const e = await stream.tryNext();
    if (e) out.push(e);
  }
  assert.equal(out.length, count, `expected ${count} change events`);
  return out;
}

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("proxy presents a replica-set primary with sessions", opts, async () => {
  await withClient(async (client) => {
    const hello = await client.db("admin").command({ hello: 1 });
    assert.equal(hello.isWritablePrimary, true);
    assert.equal(hello.setName, "rs0");
    assert.ok(hello.maxWireVersion >= 17);
    assert.ok(hello.$clusterTime?.clusterTime);
  });
});

Deno.test("insert and find keep Long and Decimal128 values exactly", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("exact"));
    const big = Long.fromString("9007199254740993");
    const money = Decimal128.fromString("12345678901234567890.123456789");
    await coll.insertMany([
      { _id: 1 as never, big, money, nested: { list: [Long.fromString("-42"), money] } },
      { _id: 2 as never, big: Long.fromString("7"), money: Decimal128.fromString("0.10") },
    ]);
    const docs = await client.db(DB).collection(coll.collectionName, {
      promoteLongs: false,
    }).find({}, { sort: { _id: 1 } }).toArray();
    assert.equal(docs.length, 2);
    assert.ok(docs[0].big instanceof Long);
    assert.equal(docs[0].big.toString(), "9007199254740993");
    assert.ok(docs[0].money instanceof Decimal128);
    assert.equal(docs[0].money.toString(), "12345678901234567890.123456789");
    assert.equal(docs[0].nested.list[0].toString(), "-42");
    assert.equal(docs[0].nested.list[1].toString(), "12345678901234567890.123456789");
    assert.equal(docs[1].money.toString(), "0.10");
    // Equality on a Decimal128 still matches through the proxy.
    assert.equal(await coll.countDocuments({ money: Decimal128.fromString("0.10") }), 1);
    await coll.drop();
  });
});

Deno.test("resumeToken is available after tryNext() with no events", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("hwm"));
    const stream = coll.watch();
    try {
      assert.equal(await stream.tryNext(), null);
      const token = stream.resumeToken;
      assert.ok(token, "resumeToken after the first tryNext()");
      assert.ok(tokenTime(token) > 0n);
    } finally {
      await stream.close();
    }
  });
});

Deno.test("watch() sees inserts with increasing cluster times", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("insert"));
    const stream = coll.watch();
    try {
      await stream.tryNext();
      await coll.insertOne({ _id: "a" as never, customerId: "c1", amount: 5 });
      await coll.insertOne({ _id: "b" as never, customerId: "c1", amount: 7 });
      const events = await nextEvents(stream, 2);
      assert.deepEqual(events.map((e) => e.operationType), ["insert", "insert"]);
      const [a, b] = events as Extract<ChangeStreamDocument, { operationType: "insert" }>[];
      assert.deepEqual(a.fullDocument, { _id: "a", customerId: "c1", amount: 5 });
      assert.deepEqual(a.documentKey, { _id: "a" });
      assert.deepEqual(a.ns, { db: DB, coll: coll.collectionName });
      assert.ok(tokenTime(b._id) > tokenTime(a._id));
      assert.ok((b._id as { _data: string })._data > (a._id as { _data: string })._data);
      assert.ok(a.clusterTime && a.wallTime instanceof Date);
    } finally {
      await stream.close();
    }
  });
});

Deno.test("update gives updateDescription and the looked-up document", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("update"));
    await coll.insertOne({ _id: 1 as never, amount: 5, note: "x" });
    const stream = coll.watch([], { fullDocument: "updateLookup" });
    try {
      await stream.tryNext();
      await coll.updateOne({ _id: 1 as never }, { $set: { amount: 6 }, $unset: { note: "" } });
      await coll.replaceOne({ _id: 1 as never }, { amount: 9 });
      const [upd, rep] = await nextEvents(stream, 2);
      assert.equal(upd.operationType, "update");
      if (upd.operationType !== "update") return;
      assert.deepEqual(upd.updateDescription.updatedFields, { amount: 6 });
      assert.deepEqual(upd.updateDescription.removedFields, ["note"]);
      assert.deepEqual(upd.fullDocument, { _id: 1, amount: 6 });
      assert.equal(rep.operationType, "replace");
      if (rep.operationType !== "replace") return;
      assert.deepEqual(rep.fullDocument, { _id: 1, amount: 9 });
    } finally {
      await stream.close();
    }
  });
});

Deno.test("delete carries the pre-image when asked for", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("delete"));
    await coll.insertMany([{ _id: 1 as never, amount: 5 }, { _id: 2 as never, amount: 8 }]);
    const stream = coll.watch([], { fullDocumentBeforeChange: "whenAvailable" });
    try {
      await stream.tryNext();
      await coll.deleteMany({ amount: { $gt: 1 } });
      const events = await nextEvents(stream, 2);
      assert.deepEqual(events.map((e) => e.operationType), ["delete", "delete"]);
      const before = events.map((e) =>
        e.operationType === "delete" ? e.fullDocumentBeforeChange : undefined
      );
      assert.deepEqual(before, [{ _id: 1, amount: 5 }, { _id: 2, amount: 8 }]);
      assert.deepEqual(
        events.map((e) => e.operationType === "delete" ? e.documentKey : undefined),
        [{ _id: 1 }, { _id: 2 }],
      );
    } finally {
      await stream.close();
    }
  });
});

Deno.test("upsert and findOneAndUpdate produce events", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("fam"));
    const stream = coll.watch([{ $match: { operationType: { $in: ["insert", "update"] } } }]);
    try {
      await stream.tryNext();
      await coll.updateOne({ _id: "u" as never }, { $inc: { n: 1 } }, { upsert: true });
      const after = await coll.findOneAndUpdate(
        { _id: "u" as never },
        { $inc: { n: 1 } },
        { returnDocument: "after" },
      );
      assert.deepEqual(after, { _id: "u", n: 2 });
      await coll.findOneAndDelete({ _id: "u" as never }); // filtered out by $match
      await coll.insertOne({ _id: "v" as never });
      const events = await nextEvents(stream, 3);
      assert.deepEqual(events.map((e) => e.operationType), ["insert", "update", "insert"]);
    } finally {
      await stream.close();
    }
  });
});

Deno.test("resumeAfter a token sees exactly the later events", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("resume"));
    const first = coll.watch();
    let token: ResumeToken;
    try {
      await first.tryNext();
      await coll.insertMany([{ _id: 1 as never }, { _id: 2 as never }, { _id: 3 as never }]);
      const events = await nextEvents(first, 3);
      token = events[0]._id;
    } finally {
      await first.close();
    }
    const resumed = coll.watch([], { resumeAfter: token });
    try {
      const events = await nextEvents(resumed, 2);
      assert.deepEqual(
        events.map((e) => e.operationType === "insert" ? e.documentKey._id : null),
        [2, 3],
      );
      assert.equal(await resumed.tryNext(), null);
    } finally {
      await resumed.close();
    }
  });
});

Deno.test("a high-water-mark token resumes after everything before it", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("hwmresume"));
    await coll.insertOne({ _id: 1 as never });
    const probe = coll.watch();
    await probe.tryNext();
    const token = probe.resumeToken;
    await probe.close();
    await coll.insertOne({ _id: 2 as never });
    const resumed = coll.watch([], { startAfter: token });
    try {
      const [e] = await nextEvents(resumed, 1);
      assert.equal(e.operationType === "insert" ? e.documentKey._id : null, 2);
    } finally {
      await resumed.close();
    }
  });
});

Deno.test(
  "a new stream starts one tick past the last write; the next write can get exactly that time",
  opts,
  async () => {
    await withClient(async (client) => {
      const coll = client.db(DB).collection(uniqueName("firsttoken"));
      const session = client.startSession();
      try {
        // Other clients of a shared proxy may write in between: try until the case is met.
        for (let attempt = 0; attempt < 10; attempt++) {
          await coll.insertOne({ _id: `before-${attempt}` as never }, { session });
          const last = BigInt(session.operationTime!.toString());
          const probe = coll.watch([], { maxAwaitTimeMS: 1 });
          await probe.tryNext();
          const first = probe.resumeToken;
          await probe.close();
          const t0 = tokenTime(first);
          assert.ok(t0 > last, "the first token is past the last write");
          await coll.insertOne({ _id: `at-${attempt}` as never }, { session });
          const written = BigInt(session.operationTime!.toString());
          assert.ok(written >= t0, "no write is older than a stream's first token");
          if (t0 !== last + 1n || written !== t0) continue;
          // The write at exactly T0 is after the token: resuming from it must deliver it.
          const resumed = coll.watch([], { resumeAfter: first });
          try {
            const [e] = await nextEvents(resumed, 1);
            assert.equal(e.operationType === "insert" ? e.documentKey._id : null, `at-${attempt}`);
            assert.equal(tokenTime(e._id), t0);
          } finally {
            await resumed.close();
          }
          return;
        }
        assert.fail("no write landed exactly on a new stream's first token time in 10 attempts");
      } finally {
        await session.endSession();
      }
    });
  },
);

Deno.test("startAtOperationTime from session.operationTime includes that write", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("optime"));
    const session = client.startSession();
    try {
      await coll.insertOne({ _id: 1 as never }, { session });
      const opTime = session.operationTime;
      assert.ok(opTime, "session.operationTime is set from the reply");
      await coll.insertOne({ _id: 2 as never }, { session });
      const stream = coll.watch([], { startAtOperationTime: opTime });
      try {
        const events = await nextEvents(stream, 2);
        assert.deepEqual(
          events.map((e) => e.operationType === "insert" ? e.documentKey._id : null),
          [1, 2],
        );
      } finally {
        await stream.close();
      }
    } finally {
      await session.endSession();
    }
  });
});

Deno.test("database-level watch and $group sums pass through", opts, async () => {
  await withClient(async (client) => {
    const db = client.db(DB);
    const name = uniqueName("group");
    const stream = db.watch([{ $match: { "ns.coll": name } }]);
    try {
      await stream.tryNext();
      const coll = db.collection(name);
      await coll.insertMany([
        { customerId: "a", amount: 5 },
        { customerId: "a", amount: Long.fromNumber(7) },
        { customerId: "b", amount: 1 },
      ]);
      const totals = await coll.aggregate([
        { $group: { _id: "$customerId", total: { $sum: "$amount" } } },
        { $sort: { _id: 1 } },
      ]).toArray();
      assert.deepEqual(totals.map((t) => [t._id, Number(t.total)]), [["a", 12], ["b", 1]]);
      const events = await nextEvents(stream, 3);
      assert.ok(events.every((e) => e.operationType === "insert"));
      await coll.drop();
    } finally {
      await stream.close();
    }
  });
});

Deno.test("find with a small batch size pages through getMore", opts, async () => {
  await withClient(async (client) => {
    const coll = client.db(DB).collection(uniqueName("paging"));
    await coll.insertMany(Array.from({ length: 250 }, (_, k) => ({ _id: k as never })));
    const docs = await coll.find({}, { batchSize: 7, sort: { _id: 1 } }).toArray();
    assert.equal(docs.length, 250);
    assert.equal(docs[249]._id, 249);
    await coll.drop();
  });
});

Deno.test(
  "a duplicate key stops an ordered insert; client.watch() sees the rest",
  opts,
  async () => {
    await withClient(async (client) => {
      const coll = client.db(DB).collection(uniqueName("dup"));
      const stream = client.watch([{ $match: { "ns.coll": coll.collectionName } }]);
      try {
        await stream.tryNext();
        await assert.rejects(
          coll.insertMany([{ _id: 1 as never }, { _id: 1 as never }, { _id: 2 as never }]),
          (e: { code?: number }) => e.code === 11000,
        );
        await coll.insertOne({ _id: 3 as never });
        const events = await nextEvents(stream, 2);
        assert.deepEqual(
          events.map((e) => e.operationType === "insert" ? e.documentKey._id : null),
          [1, 3],
        );
        assert.equal(await coll.countDocuments(), 2);
      } finally {
        await stream.close();
      }
    });
  },
);
