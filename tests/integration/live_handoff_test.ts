/**
 * The handoff edge: a change at exactly the handoff time T0. A new change stream's first
 * token is one tick past the last write (MongoDB and the stack's proxy alike), so the next
 * write can get exactly T0; the scan may already have read the order it changes.
 */
import assert from "node:assert/strict";
import { type Collection, type Document, MongoClient } from "mongodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { LiveWorker, Scenario } from "../../devstack/lib/scenario.ts";
import {
  assertConverges,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
} from "../support/live.ts";
import { ddbClientConfig, mongoUri } from "../../devstack/lib/env.ts";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";
import { MongoSnapshotSource, type ResumePoint } from "../../src/sources/mongo/snapshot.ts";
import { orderTotals } from "../../src/app/orderstats.ts";
import { runBootstrap } from "../../src/runtimes/bootstrap.ts";

/**
 * The real collection scan, plus one write made right after the scan has read the first
 * document: when nothing else wrote since the resume token was taken in the same second,
 * that write's cluster time is exactly the token's T0.
 */
class WriteAfterFirstRead extends MongoSnapshotSource {
  written?: bigint;
  constructor(
    private readonly mongo: MongoClient,
    private readonly target: Collection,
    private readonly write: Document,
  ) {
    super(mongo, target);
  }

  override async resumePoint(): Promise<ResumePoint> {
    // Early in a second, a write (elsewhere) sets the clock's last time, so the token, the
    // scan and the write share one second: the token is then T0 = last + 1 tick.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)));
    await this.target.db.collection("clock").insertOne({});
    return super.resumePoint();
  }

  override async *scan(options: { batchSize: number; signal?: AbortSignal }) {
    for await (const item of super.scan(options)) {
      yield item;
      if (this.written !== undefined) continue;
      const session = this.mongo.startSession();
      try {
        await this.target.updateOne({ _id: 1 as never }, { $set: this.write }, { session });
        this.written = BigInt(session.operationTime!.toString());
      } finally {
        await session.endSession();
      }
    }
  }
}

async function bootstrapInProcess(s: Scenario, source: MongoSnapshotSource) {
  const client = new DynamoDBClient(ddbClientConfig());
  try {
    const store = new DynamoStore({ client, table: s.table });
    return await runBootstrap({
      pipeline: orderTotals(s.pipeline, store),
      source,
      batchSize: 100,
      badRecordsFile: "/dev/null",
    });
  } finally {
    client.destroy();
  }
}

Deno.test({
  name: "a write at exactly the handoff time T0 to an order the scan already read is applied",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using scene = await relayedScenario("edge", 1);
    const { s, orders } = scene;
    const client = new MongoClient(mongoUri());
    let worker: LiveWorker | undefined;
    try {
      await client.connect();
      const mine = client.db(s.db).collection(s.collection);
      await orders.insertMany([
        { _id: 1 as never, customer_id: "a", amount: 10 },
        { _id: 2 as never, customer_id: "b", amount: 1 },
      ]);
      // Other users of the shared proxy may write in between: retry until the case is met.
      let met = false;
      for (let attempt = 1; attempt <= 5 && !met; attempt++) {
        const source = new WriteAfterFirstRead(client, mine, { amount: 10 + attempt });
        const summary = await bootstrapInProcess(s, source);
        const t0 = (BigInt(summary.clusterTime!.t) << 32n) | BigInt(summary.clusterTime!.i);
        met = source.written === t0;
      }
      assert.ok(met, "no write landed exactly on the handoff time in 5 bootstraps");
      worker = startWorker(s);
      await assertConverges(s, orders);
    } finally {
      await worker?.stop("SIGTERM");
      await client.close();
    }
  },
});
