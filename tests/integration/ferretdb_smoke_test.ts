import assert from "node:assert/strict";
import { Long, MongoClient } from "mongodb";
import { connectOrExplain, ferretUri, uniqueName } from "../../devstack/lib/env.ts";

Deno.test("ferretdb: a document inserted directly is found again with its int64 intact", async () => {
  const client = new MongoClient(ferretUri(), {
    serverSelectionTimeoutMS: 5_000,
    appName: "orderstats-smoke",
  });
  const dbName = uniqueName("smoke");
  try {
    await connectOrExplain("FerretDB", ferretUri(), () => client.connect());
    const orders = client.db(dbName).collection<{ _id: string; customerId: string; amount: Long }>(
      "orders",
    );
    const doc = { _id: "o-1", customerId: "c-1", amount: Long.fromString("9223372036854775807") };
    const { insertedId } = await orders.insertOne(doc);
    assert.equal(insertedId, "o-1");

    const found = await orders.findOne({ customerId: "c-1" }, { promoteLongs: false });
    assert.ok(found);
    assert.equal(found.amount.toString(), "9223372036854775807");
    assert.ok(Long.isLong(found.amount));
  } finally {
    await client.db(dbName).dropDatabase().catch(() => {});
    await client.close();
  }
});
