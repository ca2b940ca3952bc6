/**
 * DynamoDB capacity per CDC event, measured on DynamoDB Local: live mode's real code path
 * (`applyBatch`, one event per batch) with `ReturnConsumedCapacity: "TOTAL"` added to every
 * request, and each response's consumed capacity summed per event kind; without the ledger
 * cache (every entry read), with it, and with it and the dedup table. Prints a table and
 * a JSON line; passes or fails nothing. Figures and how to read them: docs/production.md.
 *
 *   scripts/deno.sh task bench:capacity
 *
 * @module
 */
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { ddbEndpoint, uniqueName } from "../devstack/lib/env.ts";
import { dynamoClient } from "../src/state/dynamodb/client.ts";
import { DynamoStore } from "../src/state/dynamodb/store.ts";
import { defaultLedgerTable, ensureTable } from "../src/state/dynamodb/tables.ts";
import { AppliedOffsets } from "../src/state/dynamodb/applied_offsets.ts";
import { orderTotals } from "../src/app/orderstats.ts";
import { contributionCodec } from "../src/pipeline/contribution.ts";
import { fieldNames } from "../src/pipeline/fields.ts";
import { applyBatch, type BatchContext } from "../src/runtimes/live/batch.ts";
import { LiveMetrics } from "../src/runtimes/live/metrics.ts";
import { LedgerCache } from "../src/runtimes/live/ledger_cache.ts";
import { LoggedDeadLetters } from "../src/sources/kafka/dead_letters.ts";
import { isGroup } from "../src/pipeline/monoid.ts";
import type { CdcMessage } from "../src/sources/cdc/mod.ts";

const READS = new Set(["GetItemCommand", "BatchGetItemCommand", "QueryCommand", "ScanCommand"]);
const TRANSACTIONS = new Set(["TransactWriteItemsCommand"]);

/** Capacity consumed since the last reset, by kind of request. */
class Meter {
  requests = 0;
  read = 0;
  write = 0;
  /** Units DynamoDB Local reports for transactions (it under-reports, see below). */
  transactional = 0;
  /** Items written inside transactions. */
  transactionItems = 0;
  reset() {
    Object.assign(this, { requests: 0, read: 0, write: 0, transactional: 0, transactionItems: 0 });
  }
}

const meter = new Meter();
const client = dynamoClient({ endpoint: ddbEndpoint() });
// Ask every request for its consumed capacity, and add up what each response reports.
client.middlewareStack.add((next, context) => async (args) => {
  (args.input as Record<string, unknown>).ReturnConsumedCapacity = "TOTAL";
  const out = await next(args);
  const reported = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
  const list = (Array.isArray(reported) ? reported : reported ? [reported] : []) as {
    CapacityUnits?: number;
  }[];
  const units = list.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
  meter.requests++;
  if (READS.has(context.commandName!)) meter.read += units;
  else if (TRANSACTIONS.has(context.commandName!)) {
    meter.transactional += units;
    meter.transactionItems += (args.input as { TransactItems: unknown[] }).TransactItems.length;
  } else meter.write += units;
  return out;
}, { step: "initialize", name: "consumedCapacity" });

const table = uniqueName("capacity");
const ledgerTable = defaultLedgerTable(table);
const dedupTable = uniqueName("capacity-dedup");
const TOPIC = "shop.shop.orders";

/** A Debezium MongoDB event (JSON converter, no schemas) for order 1. */
function event(op: "c" | "u" | "d", t: number, after?: { customer: string; amount: number }) {
  const doc = after && JSON.stringify({
    _id: { $numberLong: "1" },
    customer_id: after.customer,
    amount: { $numberLong: String(after.amount) },
  });
  return {
    key: JSON.stringify({ id: "1" }),
    value: JSON.stringify({
      before: null,
      after: doc ?? null,
      updateDescription: null,
      source: {
        version: "2.7.3.Final",
        connector: "mongodb",
        name: "shop",
        ts_ms: t * 1000,
        db: "shop",
        collection: "orders",
        ord: 1,
      },
      op,
      ts_ms: Date.now(),
    }),
  };
}

const VARIANTS = [
  { dedup: false, cache: false },
  { dedup: false, cache: true },
  { dedup: true, cache: true },
];

const EVENTS = [
  { name: "insert", ...event("c", 1, { customer: "a", amount: 10 }) },
  { name: "update (amount)", ...event("u", 2, { customer: "a", amount: 15 }) },
  { name: "move (customer)", ...event("u", 3, { customer: "b", amount: 15 }) },
  { name: "delete", ...event("d", 4) },
];

try {
  for (const name of [table, ledgerTable, dedupTable]) await ensureTable(client, name);
  const store = new DynamoStore({ client, table });
  const definition = orderTotals("capacity", store);
  const group = definition.monoid;
  if (!isGroup(group)) throw new Error("orderstats' pipeline has a group monoid");
  using metrics = new LiveMetrics();
  const rows: Record<string, number | string>[] = [];
  // Without and with the ledger cache (--ledger-cache-entries 0 and the default), and with
  // the dedup table.
  for (const { dedup, cache } of VARIANTS) {
    const offsets = dedup ? new AppliedOffsets(client, dedupTable, "capacity") : undefined;
    const pipeline = `capacity_${dedup ? "dedup" : "plain"}_${cache ? "cache" : "read"}`;
    const context: BatchContext = {
      pipeline,
      store,
      group,
      codec: contributionCodec(definition.fields),
      fields: fieldNames(definition.fields),
      format: "debezium",
      deadLetters: new LoggedDeadLetters(),
      metrics,
      concurrency: 1,
      cache: new LedgerCache(cache ? 100_000 : 0),
      heartbeat: () => Promise.resolve(),
    };
    for (const [offset, e] of EVENTS.entries()) {
      const message: CdcMessage = {
        topic: TOPIC,
        partition: 0,
        offset: String(offset),
        key: new TextEncoder().encode(e.key),
        value: new TextEncoder().encode(e.value),
      };
      meter.reset();
      // What live mode does per batch: the dedup read, the batch, the dedup watermark.
      await offsets?.applied(TOPIC, 0);
      await applyBatch(context, [message]);
      await offsets?.advance(TOPIC, 0, BigInt(message.offset));
      rows.push({
        event: e.name,
        dedupTable: dedup ? "yes" : "no",
        ledgerCache: cache ? "yes" : "no",
        requests: meter.requests,
        readUnits: meter.read,
        writeUnits: meter.write,
        transactionItems: meter.transactionItems,
        localTransactionUnits: meter.transactional,
        // AWS bills 2 write units per transactional item of up to 1 KB. DynamoDB Local's own
        // figure for a transaction is not that (2 units for a 3-item transaction), so the
        // items are counted instead.
        awsWriteUnits: meter.write + 2 * meter.transactionItems,
      });
    }
  }
  console.table(rows);
  console.log(JSON.stringify({ bench: "capacity", rows }));
} finally {
  for (const name of [table, ledgerTable, dedupTable]) {
    await client.send(new DeleteTableCommand({ TableName: name })).catch(() => {});
  }
  client.destroy();
}
