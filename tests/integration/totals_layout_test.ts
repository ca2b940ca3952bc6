/**
 * The two-table layout: listing totals reads only total items (counted with DynamoDB's
 * own ScannedCount), pages with a cursor, and state in the old one-table layout is
 * refused with a clear error until a forced bootstrap rebuilds it.
 */
import assert from "node:assert/strict";
import {
  type AttributeValue,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import {
  mongoCollection,
  mongoTotals,
  orderstats,
  orderstatsOk,
  scenario,
  stackFlags,
  storedTotals,
} from "../../devstack/lib/scenario.ts";
import type { Document } from "mongodb";
import { ddbClientConfig } from "../../devstack/lib/env.ts";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";
import { handoffItem, keys, ledgerItem } from "../../src/state/dynamodb/items.ts";

const ORDERS = 200;
const CUSTOMERS = 4;

/** A client that adds up the ScannedCount of every Scan it sends. */
function countingClient(): { client: DynamoDBClient; scanned: () => number } {
  const client = new DynamoDBClient(ddbClientConfig());
  let scanned = 0;
  client.middlewareStack.add((next) => async (args) => {
    const result = await next(args);
    const output = result.output as { ScannedCount?: number };
    scanned += output.ScannedCount ?? 0; // only Scan and Query report it
    return result;
  }, { step: "initialize", name: "countScanned" });
  return { client, scanned: () => scanned };
}

Deno.test("listing totals reads only total items, not the ledger, and pages with a cursor", async () => {
  const s = scenario("layout");
  await using mongo = await mongoCollection(s);
  await mongo.orders.insertMany(
    Array.from(
      { length: ORDERS },
      (_, i): Document => ({ _id: i, customer_id: `c${i % CUSTOMERS}`, amount: i }),
    ),
  );
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);

  const { client, scanned } = countingClient();
  try {
    const store = new DynamoStore({ client, table: s.table });
    const all = new Map<string, bigint>();
    for await (const row of store.totals(s.pipeline)) all.set(row.key, row.total);
    assert.deepEqual(all, await mongoTotals(mongo.orders));
    // One item per customer, none of the 200 ledger items (nor the handoff row).
    assert.equal(scanned(), CUSTOMERS);

    const paged: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await store.totalsPage(s.pipeline, { limit: 3, after });
      assert.ok(page.rows.length <= 3);
      paged.push(...page.rows.map((r) => r.key));
      after = page.next;
      pages++;
    } while (after !== undefined);
    assert.deepEqual(paged.toSorted(), [...all.keys()].toSorted());
    assert.equal(pages, 2);
    assert.equal(scanned(), 2 * CUSTOMERS);

    // The ledger is all in the ledger table.
    const ledger = await client.send(
      new ScanCommand({ TableName: `${s.table}_ledger`, Select: "COUNT" }),
    );
    assert.equal(ledger.Count, ORDERS + 1); // + the handoff row
  } finally {
    client.destroy();
  }

  // Live pointed at another totals table would add deltas to totals without their base.
  const elsewhere = await orderstats([
    "--mode=live",
    ...stackFlags(s),
    `--ddb-table=${s.table}_other`,
    `--ddb-ledger-table=${s.table}_ledger`,
    "--no-wait-for-handoff",
  ]);
  assert.equal(elsewhere.code, 2, elsewhere.stderr);
  assert.match(elsewhere.stderr, /bootstrapped into totals table/);
});

Deno.test("state in the old one-table layout is refused until bootstrap --force rebuilds it", async () => {
  const s = scenario("legacy");
  await using mongo = await mongoCollection(s);
  await mongo.orders.insertMany([
    { _id: 1, customer_id: "a", amount: 5 },
    { _id: 2, customer_id: "b", amount: 7 },
  ] as Document[]);
  await orderstatsOk(["--mode=setup", ...stackFlags(s)]);
  // What an older orderstats left: totals, ledger and a live handoff row, all in one table.
  const client = new DynamoDBClient(ddbClientConfig());
  try {
    const put = (Item: Record<string, AttributeValue>) =>
      client.send(new PutItemCommand({ TableName: s.table, Item }));
    await put(handoffItem({
      pipeline: s.pipeline,
      status: "live",
      runId: "old-run",
      documents: 1,
      keys: 1,
      badRecords: 0,
      startedAt: "2026-01-01T00:00:00Z",
      liveSince: "2026-01-01T00:01:00Z",
    }));
    await put(ledgerItem(s.pipeline, {
      record: "n:1",
      present: true,
      key: "a",
      value: 5n,
      version: "0000000000000000/b",
    }));
  } finally {
    client.destroy();
  }

  const live = await orderstats(["--mode=live", ...stackFlags(s), "--no-wait-for-handoff"]);
  assert.equal(live.code, 4, live.stderr);
  assert.match(live.stderr, /older orderstats.*--mode=bootstrap --force/);

  const boot = ["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"];
  const refused = await orderstats(boot);
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, /Refusing to bootstrap/);

  const forced = await orderstatsOk([...boot, "--force"]);
  assert.match(forced.stderr, /removed the old one-table layout's ledger.*"items":2/);
  assert.deepEqual(await storedTotals(s), new Map([["a", 5n], ["b", 7n]]));
  const check = new DynamoDBClient(ddbClientConfig());
  try {
    const left = await check.send(new ScanCommand({ TableName: s.table }));
    assert.deepEqual(
      left.Items?.map((i) => i.pk.S).toSorted(),
      [keys.total(s.pipeline, "a"), keys.total(s.pipeline, "b")],
    );
  } finally {
    check.destroy();
  }
});
