/**
 * `--mode=bootstrap` against the local stack: exact totals from a seeded collection,
 * the handoff row, re-runs, and the refusals users rely on.
 */
import assert from "node:assert/strict";
import { Decimal128, type Document, Double, Int32, Long, MongoClient, ObjectId } from "mongodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  mongoCollection,
  mongoTotals,
  orderstats,
  orderstatsOk,
  type Scenario,
  scenario,
  stackFlags,
  storedTotals,
} from "../../devstack/lib/scenario.ts";
import { ddbClientConfig, ferretUri, mongoUri } from "../../devstack/lib/env.ts";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";
import { tokenClusterTime } from "../../src/sources/mongo/resume_token.ts";
import { MongoSnapshotSource } from "../../src/sources/mongo/snapshot.ts";

const CUSTOMERS = 37;

/**
 * Mixed `_id` types and numeric types; every 50th document has a non-numeric amount
 * (bad for orderstats, ignored by `$sum`: both leave it out).
 */
function seedDocuments(n: number): Document[] {
  const docs: Document[] = [];
  for (let i = 0; i < n; i++) {
    const customer_id = `c${i % CUSTOMERS}`;
    const ids = [i, `order-${i}`, new ObjectId()];
    const amounts = [
      new Int32(i),
      Long.fromString(`${1_000_000_000_000n + BigInt(i)}`), // < 2^53: $sum mixes it with doubles
      new Double(i * 2),
      Long.fromNumber(-i),
    ];
    const bad = i % 50 === 49;
    docs.push({
      _id: ids[i % 3],
      customer_id,
      amount: bad ? (i % 100 === 49 ? "12" : null) : amounts[i % 4],
    });
  }
  return docs;
}

async function readHandoff(s: Scenario) {
  await using store = new DynamoStore({
    client: new DynamoDBClient(ddbClientConfig()),
    table: s.table,
  });
  return await store.readHandoff(s.pipeline);
}

Deno.test("bootstrap writes totals equal to MongoDB's $group and a complete handoff row", async () => {
  const s = scenario("boot");
  await using mongo = await mongoCollection(s);
  const { client, orders } = mongo;
  const session = client.startSession();
  await orders.insertMany(seedDocuments(1000), { session });
  const before = BigInt(session.operationTime!.toString());
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  const badFile = await Deno.makeTempFile({ suffix: ".jsonl" });
  const run = await orderstatsOk([
    "--mode=bootstrap",
    ...stackFlags(s),
    `--bad-records-file=${badFile}`,
    "--batch-size=100",
  ]);
  await orders.insertOne({ _id: "after" as never, customer_id: "c1", amount: 1 }, { session });
  const after = BigInt(session.operationTime!.toString());
  await session.endSession();

  const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  assert.equal(summary.event, "bootstrap_complete");
  assert.equal(summary.documents, 1000);
  assert.equal(summary.badRecords, 20);
  assert.equal(summary.keys, CUSTOMERS);
  const badLines = (await Deno.readTextFile(badFile)).trim().split("\n");
  assert.equal(badLines.length, 20);
  assert.match(JSON.parse(badLines[0]).reason, /amount .* is not an exact integer/);

  const handoff = await readHandoff(s);
  assert.equal(handoff?.status, "complete");
  assert.equal(handoff?.documents, 1000);
  const t0 = tokenClusterTime(JSON.parse(handoff!.resumeToken!));
  assert.equal(handoff?.clusterTime, t0);
  // T0 is one tick past the last write before the stream opened. A write in that same wall
  // second gets exactly T0 (as in MongoDB), so `after` may equal T0; live mode applies it.
  assert.ok(before < t0 && t0 <= after, `T0 ${t0} not in (${before}, ${after}]`);

  // The document written after the bootstrap is not in the totals (live mode adds it).
  await orders.deleteOne({ _id: "after" as never });
  assert.deepEqual(await storedTotals(s), await mongoTotals(orders));
});

Deno.test("bootstrap keeps int64 and Decimal128 amounts exact", async () => {
  const s = scenario("exact");
  await using mongo = await mongoCollection(s);
  const { orders } = mongo;
  await orders.insertMany([
    { _id: 1 as never, customer_id: "big", amount: Long.fromString("9223372036854775000") },
    { _id: 2 as never, customer_id: "big", amount: Long.fromString("807") },
    { _id: 3 as never, customer_id: "dec", amount: Decimal128.fromString("1234567890123456789") },
    { _id: 4 as never, customer_id: "dec", amount: Decimal128.fromString("11.000") },
    { _id: 5 as never, customer_id: "neg", amount: Long.fromString("-9223372036854775808") },
  ]);
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
  // FerretDB's $sum skips Decimal128, so the expectation is spelled out here.
  assert.deepEqual(
    await storedTotals(s),
    new Map([
      ["big", 9223372036854775807n],
      ["dec", 1234567890123456800n],
      ["neg", -9223372036854775808n],
    ]),
  );
  const one = await orderstats(["--mode=totals", ...stackFlags(s), "--customer=big"]);
  assert.equal(one.stdout.trim(), '{"customer_id":"big","total":"9223372036854775807"}');
});

Deno.test("re-running bootstrap gives the same totals; live state needs --force", async () => {
  const s = scenario("rerun");
  await using mongo = await mongoCollection(s);
  const { orders } = mongo;
  await orders.insertMany(seedDocuments(300));
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  const flags = ["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"];
  await orderstatsOk(flags);
  const first = await storedTotals(s);
  // Orders of one customer vanish before the re-run: its total must go too.
  await orders.deleteMany({ customer_id: "c0" });
  const rerun = await orderstatsOk(flags);
  assert.ok(JSON.parse(rerun.stdout).clearedItems > 0);
  const second = await storedTotals(s);
  assert.deepEqual(second, await mongoTotals(orders));
  assert.equal(second.size, first.size - 1);

  // A live worker marks the handoff live; bootstrap then refuses (exit 4) unless forced.
  const store = new DynamoStore({ client: new DynamoDBClient(ddbClientConfig()), table: s.table });
  const handoff = (await store.readHandoff(s.pipeline))!;
  await store.putHandoff({ ...handoff, status: "live", liveSince: new Date().toISOString() });
  await store.close();
  const refused = await orderstats(flags);
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, /Refusing to bootstrap.*--force/);
  await orderstatsOk([...flags, "--force"]);
  assert.deepEqual(await storedTotals(s), second);
});

Deno.test("bootstrap against a server without change streams exits 3 unless allowed", async () => {
  const s = scenario("nocs");
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  const flags = [
    "--mode=bootstrap",
    ...stackFlags(s),
    `--mongo-uri=${ferretUri()}`,
    "--bad-records-file=/dev/null",
  ];
  const refused = await orderstats(flags);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /Cannot open a change stream/);
  await orderstatsOk([...flags, "--allow-no-change-streams"]);
  const handoff = await readHandoff(s);
  assert.equal(handoff?.status, "complete");
  assert.equal(handoff?.resumeToken, undefined);
});

Deno.test("the bootstrap scan asks for majority-committed data (read concern majority)", async () => {
  const s = scenario("majority");
  await using mongo = await mongoCollection(s);
  await mongo.orders.insertMany([{ _id: 1 as never, customer_id: "c1", amount: 5 }]);
  // The driver's command monitoring shows what is sent on the wire to the real endpoint.
  const client = new MongoClient(mongoUri(), { monitorCommands: true });
  const finds: Document[] = [];
  client.on("commandStarted", (event) => {
    if (event.commandName === "find") finds.push(event.command);
  });
  try {
    await client.connect();
    const source = new MongoSnapshotSource(client, client.db(s.db).collection(s.collection));
    const scanned = [];
    for await (const item of source.scan({ batchSize: 10 })) scanned.push(item);
    assert.equal(scanned.length, 1);
  } finally {
    await client.close();
  }
  assert.equal(finds.length, 1);
  assert.equal(finds[0].readConcern?.level, "majority");
});

Deno.test("bootstrap reports every bad document with its kind and counts each kind, folding none", async () => {
  const s = scenario("badboot");
  await using mongo = await mongoCollection(s);
  const bad: [Document, string, RegExp][] = [
    [{ customer_id: { id: "c" }, amount: 1 }, "bad_key_field", /customer_id \{.*\} is not/],
    [{ customer_id: ["c1", "c2"], amount: 1 }, "bad_key_field", /customer_id \[.*\] is not/],
    [{ amount: 1 }, "bad_key_field", /customer_id \(missing\)/],
    [{ customer_id: null, amount: 1 }, "bad_key_field", /customer_id null/],
    [{ customer_id: "", amount: 1 }, "bad_key_field", /customer_id "" is not/],
    [{ customer_id: new Double(4.5), amount: 1 }, "bad_key_field", /customer_id Double\(4\.5\)/],
    [{ customer_id: "x", amount: new Double(12.5) }, "bad_value_field", /amount Double\(12\.5\)/],
    [{ customer_id: "x", amount: "12" }, "bad_value_field", /amount "12" is not/],
    [{ customer_id: "x" }, "bad_value_field", /amount \(missing\)/],
    [{ customer_id: "x", amount: null }, "bad_value_field", /amount null/],
    [{ customer_id: "x", amount: true }, "bad_value_field", /amount true/],
    [{ customer_id: "x", amount: new Double(1e19) }, "bad_value_field", /not an exact integer/],
    [{ customer_id: "x", amount: Decimal128.fromString("1E+30") }, "bad_value_field", /int64/],
    [{ customer_id: "x", amount: Decimal128.fromString("7.25") }, "bad_value_field", /amount/],
    [{ customer_id: [], amount: "1" }, "bad_fields", /customer_id \[\] .*; amount "1"/],
  ];
  const badIds: [unknown, RegExp][] = [[new Double(1.5), /_id Double\(1\.5\)/], [
    { a: 1 },
    /_id \{/,
  ]];
  await mongo.orders.insertMany([
    ...bad.map(([doc], i) => ({ _id: 100 + i, ...doc })),
    ...badIds.map(([_id]) => ({ _id, customer_id: "x", amount: 1 })),
    { _id: 1, customer_id: "x", amount: 5 },
    { _id: 2, customer_id: "x", amount: Long.fromString("9007199254740993"), note: "extra" },
    { _id: 3, customer_id: "y", amount: 2, items: [{ sku: 1 }], meta: { a: null } },
  ] as Document[]);
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  const badFile = await Deno.makeTempFile({ suffix: ".jsonl" });
  const run = await orderstatsOk([
    "--mode=bootstrap",
    ...stackFlags(s),
    `--bad-records-file=${badFile}`,
  ]);

  const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  assert.equal(summary.documents, bad.length + badIds.length + 3);
  assert.equal(summary.badRecords, bad.length + badIds.length);
  assert.deepEqual(summary.badRecordKinds, {
    bad_key_field: 6,
    bad_value_field: 8,
    bad_fields: 1,
    bad_id: 2,
  });
  const lines = (await Deno.readTextFile(badFile)).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, bad.length + badIds.length);
  for (const [i, [, kind, reason]] of bad.entries()) {
    const line = lines.find((l) => l.document._id?.$numberInt === String(100 + i));
    assert.ok(line, `_id ${100 + i} not reported`);
    assert.equal(line.kind, kind, line.reason);
    assert.match(line.reason, reason);
  }
  for (const [, reason] of badIds) {
    assert.ok(lines.some((l) => l.kind === "bad_id" && reason.test(l.reason)), String(reason));
  }
  // Nothing of a bad document is folded in: x has only orders 1 and 2, y order 3.
  assert.deepEqual(await storedTotals(s), new Map([["x", 9007199254740998n], ["y", 2n]]));
});
