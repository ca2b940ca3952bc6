/**
 * Two bootstraps of one pipeline: the first one to write claims it, the other fails before
 * writing anything, and a run that loses its claim stops writing. Totals stay exact.
 */
import assert from "node:assert/strict";
import { type Collection, type Document, MongoClient } from "mongodb";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
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
import { ddbClientConfig, mongoUri } from "../../devstack/lib/env.ts";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";
import { keys } from "../../src/state/dynamodb/items.ts";
import { MongoSnapshotSource } from "../../src/sources/mongo/snapshot.ts";
import { type BootstrapOptions, runBootstrap } from "../../src/runtimes/bootstrap.ts";
import { StateConflictError } from "../../src/runtimes/bootstrap.ts";
import { orderTotals } from "../../src/app/orderstats.ts";
import { bootstrapVersion } from "../../src/state/version.ts";

function seed(n: number): Document[] {
  return Array.from({ length: n }, (_, i) => ({
    _id: i,
    customer_id: `c${i % 7}`,
    amount: i * 3,
  }));
}

/** A scan that stops after `after` documents until `resume()` is called. */
class PausingSource extends MongoSnapshotSource {
  readonly paused: Promise<void>;
  resume!: () => void;
  #pause!: () => void;
  readonly #gate: Promise<void>;

  constructor(client: MongoClient, orders: Collection, private readonly after: number) {
    super(client, orders);
    this.paused = new Promise((resolve) => this.#pause = resolve);
    this.#gate = new Promise((resolve) => this.resume = resolve);
  }

  override async *scan(options: { batchSize: number; signal?: AbortSignal }) {
    let n = 0;
    for await (const item of super.scan(options)) {
      if (n++ === this.after) {
        this.#pause();
        await this.#gate;
      }
      yield item;
    }
  }
}

/** The versions of the scenario's ledger entries, and its handoff row. */
async function stateOf(s: Scenario, { store, ddb }: { store: DynamoStore; ddb: DynamoDBClient }) {
  const ledger: string[] = [];
  const out = await ddb.send(
    new ScanCommand({ TableName: store.ledgerTable, ConsistentRead: true }),
  );
  for (const item of out.Items ?? []) {
    if (item.pk.S!.startsWith(keys.ledger(s.pipeline, ""))) ledger.push(item.ver.S!);
  }
  return { ledger, handoff: await store.readHandoff(s.pipeline) };
}

async function inProcess(s: Scenario) {
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  const ddb = new DynamoDBClient(ddbClientConfig());
  const store = new DynamoStore({ client: ddb, table: s.table });
  const mongo = new MongoClient(mongoUri());
  await mongo.connect();
  const orders = mongo.db(s.db).collection(s.collection);
  const options = (
    source: MongoSnapshotSource,
    extra: Partial<BootstrapOptions> = {},
  ): BootstrapOptions => ({
    pipeline: orderTotals(s.pipeline, store),
    source,
    batchSize: 20,
    badRecordsFile: "/dev/null",
    ...extra,
  });
  return {
    store,
    ddb,
    mongo,
    orders,
    options,
    [Symbol.asyncDispose]: async () => {
      ddb.destroy();
      await mongo.close();
    },
  };
}

Deno.test("a second bootstrap fails before writing while the first holds the pipeline", async () => {
  const s = scenario("claim");
  await using scene = await mongoCollection(s);
  await scene.orders.insertMany(seed(200));
  await using h = await inProcess(s);
  const first = new PausingSource(h.mongo, h.orders, 50);
  const running = runBootstrap(h.options(first));
  await first.paused;
  const holder = (await h.store.readHandoff(s.pipeline))!;

  const second = runBootstrap(
    h.options(new MongoSnapshotSource(h.mongo, h.orders)),
  );
  await assert.rejects(second, (error: unknown) => {
    assert.ok(error instanceof StateConflictError, String(error));
    assert.match(error.message, /bootstrap .* holds it since/);
    return true;
  });
  // The refused run wrote nothing: the claim, every ledger entry (its T0 would differ) and the
  // (still empty) totals are the first run's.
  const during = await stateOf(s, h);
  assert.equal(during.handoff?.runId, holder.runId);
  assert.equal(during.handoff?.status, "running");
  const version = bootstrapVersion(holder.clusterTime);
  assert.ok(during.ledger.every((v) => v === version), "ledger entries of the refused run");
  assert.deepEqual(await storedTotals(s), new Map(), "totals of the refused run");

  first.resume();
  const summary = await running;
  const after = await stateOf(s, h);
  assert.equal(after.handoff?.status, "complete");
  assert.equal(after.handoff?.runId, summary.runId);
  assert.equal(after.ledger.length, 200);
  assert.ok(after.ledger.every((v) => v === version), "ledger entries of another run");
  assert.deepEqual(await storedTotals(s), await mongoTotals(h.orders));
});

Deno.test("a bootstrap that loses its claim stops writing and fails", async () => {
  const s = scenario("lost");
  await using scene = await mongoCollection(s);
  await scene.orders.insertMany(seed(200));
  await using h = await inProcess(s);
  const first = new PausingSource(h.mongo, h.orders, 50);
  const running = runBootstrap(h.options(first, { leaseMs: 600 }));
  running.catch(() => {});
  await first.paused;
  // Someone takes the pipeline over (as after a lease expiry): the holder must notice.
  const held = (await h.store.readHandoff(s.pipeline))!;
  await h.store.putHandoff({ ...held, runId: "taken-over" });
  await new Promise((r) => setTimeout(r, 1000));
  const before = await stateOf(s, h);
  first.resume();
  await assert.rejects(running, (error: unknown) => {
    assert.ok(error instanceof StateConflictError, String(error));
    assert.match(error.message, /another bootstrap took over/);
    return true;
  });
  assert.deepEqual(await stateOf(s, h), before, "the run wrote after losing its claim");
});

Deno.test("a crashed bootstrap's claim is taken over only after its lease expired", async () => {
  const s = scenario("crashed");
  await using scene = await mongoCollection(s);
  await scene.orders.insertMany(seed(30));
  await using h = await inProcess(s);
  const source = new MongoSnapshotSource(h.mongo, h.orders);
  const crashed = {
    pipeline: s.pipeline,
    status: "running" as const,
    runId: "crashed",
    documents: 0,
    keys: 0,
    badRecords: 0,
    startedAt: new Date().toISOString(),
  };
  await h.store.putHandoff({ ...crashed, leaseUntil: Date.now() - 1000 });
  await assert.rejects(runBootstrap(h.options(source, { leaseMs: 5000 })), StateConflictError);
  await h.store.putHandoff({ ...crashed, leaseUntil: Date.now() - 6000 });
  const summary = await runBootstrap(h.options(source, { leaseMs: 5000 }));
  assert.equal((await h.store.readHandoff(s.pipeline))?.runId, summary.runId);
  assert.deepEqual(await storedTotals(s), await mongoTotals(h.orders));
});

Deno.test("two bootstrap processes started together: one exits 4, totals exact", async () => {
  const s = scenario("twoboot");
  await using scene = await mongoCollection(s);
  await scene.orders.insertMany(seed(3000));
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  const flags = ["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"];
  const runs = await Promise.all([orderstats(flags), orderstats(flags)]);
  const codes = runs.map((r) => r.code).sort();
  assert.deepEqual(codes, [0, 4], runs.map((r) => r.stderr.slice(-600)).join("\n---\n"));
  const loser = runs.find((r) => r.code === 4)!;
  assert.match(
    loser.stderr,
    /Refusing to bootstrap pipeline .*order_totals.*: bootstrap .* holds it since/,
  );
  const winner = JSON.parse(runs.find((r) => r.code === 0)!.stdout.trim().split("\n").at(-1)!);
  const client = new DynamoDBClient(ddbClientConfig());
  try {
    const handoff = await new DynamoStore({ client, table: s.table }).readHandoff(s.pipeline);
    assert.equal(handoff?.status, "complete");
    assert.equal(handoff?.runId, winner.runId);
  } finally {
    client.destroy();
  }
  assert.deepEqual(await storedTotals(s), await mongoTotals(scene.orders));
});
