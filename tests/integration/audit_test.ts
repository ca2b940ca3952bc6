/**
 * `--mode=audit` against the local stack: a clean run matches, a tampered total is drift
 * with both figures (exit 7), rejected orders are listed as the reason, and changes still
 * in flight while the audit runs raise no false alarm.
 */
import assert from "node:assert/strict";
import { type Document, Double } from "mongodb";
import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import {
  mongoCollection,
  orderstats,
  orderstatsOk,
  scenario,
  stackFlags,
} from "../../devstack/lib/scenario.ts";
import { ddbClientConfig } from "../../devstack/lib/env.ts";
import { applyRandomChanges, rng, seedOrders } from "../../devstack/lib/workload.ts";
import { keys } from "../../src/state/dynamodb/items.ts";
import type { Drift } from "../../src/runtimes/audit/run.ts";
import {
  assertConverges,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
} from "../support/live.ts";

/** The summary line an audit printed. */
function summary(stdout: string) {
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stdout, got: ${stdout}`);
  const line = JSON.parse(lines[0]);
  assert.equal(line.event, "audit_complete");
  return line;
}

Deno.test("audit matches a clean state, reports a tampered total as drift, and lists rejected orders", async () => {
  const s = scenario("audit");
  const dir = await Deno.makeTempDir();
  await using mongo = await mongoCollection(s);
  await mongo.orders.insertMany([
    { _id: 1, customer_id: "c1", amount: 10 },
    { _id: 2, customer_id: "c1", amount: 5 },
    { _id: 3, customer_id: "c2", amount: 7 },
    { _id: 4, customer_id: "c3", amount: 3 },
    { _id: 7, customer_id: 42, amount: 8 }, // a numeric customer (key n:42)…
    { _id: 8, customer_id: "42", amount: 1 }, // …and a string one with the same digits
  ] as Document[]);
  const badRecords = `--bad-records-file=${dir}/bad.jsonl`;
  const metricsFile = `${dir}/audit.prom`;
  const audit = (...extra: string[]) =>
    orderstats([
      "--mode=audit",
      ...stackFlags(s),
      badRecords,
      "--audit-settle-seconds=2",
      `--audit-metrics-file=${metricsFile}`,
      ...extra,
    ]);
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), badRecords]);

  const clean = await audit();
  assert.equal(clean.code, 0, clean.stderr);
  assert.deepEqual(
    pick(summary(clean.stdout), ["compared", "matched", "drifted", "unkeyed", "drift"]),
    { compared: 5, matched: 5, drifted: 0, unkeyed: 0, drift: [] },
  );
  assert.match(
    await Deno.readTextFile(metricsFile),
    /^orderstats_audit_drifted\{pipeline="order_totals"\} 0$/m,
  );

  // Someone changes two totals behind orderstats' back.
  const ddb = new DynamoDBClient(ddbClientConfig());
  try {
    for (const customer of ["c1", "n:42"]) {
      await ddb.send(
        new UpdateItemCommand({
          TableName: s.table,
          Key: { pk: { S: keys.total(s.pipeline, customer) } },
          UpdateExpression: "ADD #t :d",
          ExpressionAttributeNames: { "#t": "total" },
          ExpressionAttributeValues: { ":d": { N: "1000" } },
        }),
      );
    }
  } finally {
    ddb.destroy();
  }
  const tampered = await audit();
  assert.equal(tampered.code, 7, tampered.stderr);
  const found = summary(tampered.stdout);
  assert.deepEqual(pick(found, ["compared", "matched", "drifted"]), {
    compared: 5,
    matched: 3,
    drifted: 2,
  });
  // Both figures re-read: MongoDB's by customer_id (42 as a number, not "42").
  assert.deepEqual(found.drift.toSorted((a: Drift, b: Drift) => a.customer < b.customer ? -1 : 1), [
    { customer: "c1", dynamodb: "1015", mongodb: "15", rejectedOrders: [] },
    { customer: "n:42", dynamodb: "1008", mongodb: "8", rejectedOrders: [] },
  ]);
  assert.ok(found.recheckRounds > 0, "a difference is re-read before it counts");
  assert.match(
    await Deno.readTextFile(metricsFile),
    /^orderstats_audit_drifted\{pipeline="order_totals"\} 2$/m,
  );
  assert.match(tampered.stderr, /differ from MongoDB's \$group/);

  // One customer at a time.
  const one = await audit("--customer=c2");
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(pick(summary(one.stdout), ["compared", "matched"]), { compared: 1, matched: 1 });
  assert.equal((await audit("--customer=c1")).code, 7);
  const text = await audit("--customer=42");
  assert.equal(text.code, 0, text.stderr);
  assert.deepEqual(pick(summary(text.stdout), ["compared", "matched"]), {
    compared: 1,
    matched: 1,
  });

  // Orders orderstats rejects: a fractional amount ($sum adds it) and no customer at all.
  await mongo.orders.insertMany([
    { _id: 5, customer_id: "c3", amount: new Double(2.5) },
    { _id: 6, amount: 4 },
  ] as Document[]);
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), badRecords]);
  const rejected = await audit();
  assert.equal(rejected.code, 7, rejected.stderr);
  const why = summary(rejected.stdout);
  assert.equal(why.drifted, 1);
  assert.equal(why.drift[0].customer, "c3");
  assert.equal(why.drift[0].dynamodb, "3");
  assert.equal(why.drift[0].mongodb, "5.5");
  assert.equal(why.drift[0].rejectedOrders.length, 1);
  assert.match(why.drift[0].rejectedOrders[0].id, /\b5\b/);
  assert.match(why.drift[0].rejectedOrders[0].reason, /amount .* not an exact integer/);
  assert.equal(why.drift[0].rejectedOrders[0].inBadRecordsFile, true);
  assert.equal(why.unkeyed, 1);
  assert.equal(why.unkeyedGroups[0].mongodb, "4");
  assert.match(why.unkeyedGroups[0].reason, /customer_id/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "changes still in flight during an audit raise no false alarm",
  ...LIVE_TEST_OPTIONS,
  async fn() {
    await using scene = await relayedScenario("auditlive");
    const { s, orders } = scene;
    const random = rng(12);
    const changes = { idSpace: 80, customers: 6, random };
    await orders.insertMany(seedOrders(60, 6, random));
    await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
    let worker = startWorker(s);
    await assertConverges(s, orders);
    // Live stops: every change from here on is in flight until it comes back.
    await worker.stop();
    await applyRandomChanges(orders, 60, changes);

    const audit = orderstats([
      "--mode=audit",
      ...stackFlags(s),
      "--bad-records-file=/dev/null",
      "--audit-settle-seconds=150",
    ]);
    await new Promise((r) => setTimeout(r, 3_000));
    worker = startWorker(s);
    try {
      await applyRandomChanges(orders, 60, changes); // and more while the audit re-checks
      const result = await audit;
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      const line = summary(result.stdout);
      assert.equal(line.drifted, 0);
      assert.ok(line.compared > 0);
      assert.equal(line.matched, line.compared);
      assert.ok(
        line.settledOnRecheck > 0,
        "the audit saw the in-flight changes and let them settle",
      );
    } finally {
      await worker.stop();
    }
  },
});

function pick(object: Record<string, unknown>, names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, object[name]]));
}
