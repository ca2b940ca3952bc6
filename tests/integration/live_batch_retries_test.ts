/**
 * `applyBatch()` when DynamoDB throttles or conflicts: the worker keeps going, rejected
 * changes are dead-lettered whichever round rejects them, and a failed batch leaves
 * nothing running or queued behind it.
 *
 * DynamoDB Local never throttles and never cancels a transaction for a conflict with
 * another transaction, so those faults are injected: a middleware on a real SDK client
 * (talking to DynamoDB Local for everything else) throws the SDK's own exception classes
 * in place of chosen TransactWriteItems calls, or (`emulateConflicts`) cancels, as DynamoDB
 * does, a transaction that touches an item another one in flight is writing. Condition
 * failures are real: another writer changes the ledger in DynamoDB Local.
 */
import assert from "node:assert/strict";
import {
  DynamoDBClient,
  ResourceNotFoundException,
  TransactionCanceledException,
  type TransactWriteItemsInput,
} from "@aws-sdk/client-dynamodb";
import type { Producer } from "kafkajs";
import { applyBatch, type BatchContext } from "../../src/runtimes/live/batch.ts";
import { LiveMetrics } from "../../src/runtimes/live/metrics.ts";
import { LedgerCache } from "../../src/runtimes/live/ledger_cache.ts";
import { orderFields } from "../../src/app/orderstats.ts";
import { contributionCodec } from "../../src/pipeline/contribution.ts";
import { fieldNames } from "../../src/pipeline/fields.ts";
import { Sum } from "../../src/pipeline/monoid.ts";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";
import { ensureTable } from "../../src/state/dynamodb/tables.ts";
import { keys } from "../../src/state/dynamodb/items.ts";
import { KafkaDeadLetters } from "../../src/sources/kafka/dead_letters.ts";
import type { CdcMessage } from "../../src/sources/cdc/mod.ts";
import { ddbClientConfig, uniqueName } from "../../devstack/lib/env.ts";
import { testKafka, topicSize } from "../../devstack/lib/kafka.ts";

const PIPELINE = "order_totals";
const encode = (text: string) => new TextEncoder().encode(text);

/** Decides, per TransactWriteItems call (numbered from 0), whether to throw instead. */
type Fault = (call: number) => Promise<Error | undefined> | Error | undefined;

/** A real client for DynamoDB Local whose TransactWriteItems calls pass through `fault`. */
class FaultyDynamo implements Disposable {
  readonly client = new DynamoDBClient(ddbClientConfig());
  fault: Fault = () => undefined;
  /** Extra latency per transaction, so several are in flight together. */
  delayMs = 0;
  calls = 0;
  inFlight = 0;
  /** Cancel a transaction on an item that one in flight writes (DynamoDB's rule). */
  emulateConflicts = false;
  /** The items (`itemsOf`) over which transactions were cancelled that way. */
  conflictedOn: string[] = [];
  readonly #writing = new Set<string>();
  readonly #touched = new Map<string, number>();

  /** Transactions that reached DynamoDB Local with `item` (as `itemsOf` names it). */
  touched(item: string): number {
    return this.#touched.get(item) ?? 0;
  }

  constructor() {
    this.client.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName !== "TransactWriteItemsCommand") return next(args);
      const call = this.calls++;
      const items = itemsOf(args.input as TransactWriteItemsInput);
      if (this.emulateConflicts && items.some((item) => this.#writing.has(item))) {
        this.conflictedOn.push(...items.filter((item) => this.#writing.has(item)));
        throw canceled(
          ...items.map((item) => this.#writing.has(item) ? "TransactionConflict" : "None"),
        );
      }
      this.inFlight++;
      for (const item of items) {
        this.#writing.add(item);
        this.#touched.set(item, this.touched(item) + 1);
      }
      try {
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        const error = await this.fault(call);
        if (error) throw error;
        return await next(args);
      } finally {
        this.inFlight--;
        for (const item of items) this.#writing.delete(item);
      }
    }, { step: "initialize", name: "injectTransactionFaults" });
  }

  [Symbol.dispose]() {
    this.client.destroy();
  }
}

/** Each action's table and key, as one string per item. */
function itemsOf(input: TransactWriteItemsInput): string[] {
  return (input.TransactItems ?? []).map((action) =>
    action.Put
      ? itemName(action.Put.TableName, action.Put.Item?.pk)
      : itemName(action.Update?.TableName, action.Update?.Key?.pk)
  );
}

/** How the fault injector names an item: its table and key. */
function itemName(table: string | undefined, pk: unknown): string {
  return JSON.stringify({ table, pk });
}

function canceled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${
      codes.join(", ")
    }]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

/** A Debezium 2.x event for order `id` at cluster time `(t, ord)`. */
function event(offset: number, id: number, t: number, body: Record<string, unknown>): CdcMessage {
  return {
    topic: "orders.cdc",
    partition: 0,
    offset: String(offset),
    key: encode(JSON.stringify({ id: String(id) })),
    value: encode(JSON.stringify({
      ...body,
      source: { version: "2.7.0.Final", ts_ms: t * 1000, ord: 1 },
    })),
  };
}
const insert = (offset: number, id: number, t: number, customer: string, amount: number) =>
  event(offset, id, t, {
    op: "c",
    after: JSON.stringify({ _id: id, customer_id: customer, amount }),
  });
const update = (offset: number, id: number, t: number, customer: string, amount: number) =>
  event(offset, id, t, {
    op: "u",
    after: JSON.stringify({ _id: id, customer_id: customer, amount }),
  });
const remove = (offset: number, id: number, t: number) => event(offset, id, t, { op: "d" });
const setAmount = (offset: number, id: number, t: number, amount: number) =>
  event(offset, id, t, {
    op: "u",
    updateDescription: { updatedFields: JSON.stringify({ amount }), removedFields: [] },
  });

interface Harness extends AsyncDisposable {
  dynamo: FaultyDynamo;
  store: DynamoStore;
  ctx: BatchContext;
  /** Another worker on the same table, through a client without injected faults. */
  other: BatchContext;
  dlq: string;
}

async function harness(prefix: string): Promise<Harness> {
  const dynamo = new FaultyDynamo();
  const table = uniqueName(prefix);
  const store = new DynamoStore({ client: dynamo.client, table });
  for (const name of [store.table, store.ledgerTable]) await ensureTable(dynamo.client, name);
  const otherStore = new DynamoStore({ client: new DynamoDBClient(ddbClientConfig()), table });
  const dlq = uniqueName(`${prefix}-dlq`);
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: dlq, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer: Producer = kafka.producer();
  await producer.connect();
  const ctx: BatchContext = {
    pipeline: PIPELINE,
    store,
    group: Sum,
    codec: contributionCodec(orderFields),
    fields: fieldNames(orderFields),
    format: "debezium",
    deadLetters: new KafkaDeadLetters(producer, dlq),
    metrics: new LiveMetrics(),
    concurrency: 4,
    heartbeat: () => Promise.resolve(),
  };
  return {
    dynamo,
    store,
    dlq,
    ctx,
    other: { ...ctx, store: otherStore, metrics: new LiveMetrics() },
    async [Symbol.asyncDispose]() {
      await producer.disconnect();
      await otherStore.close();
      dynamo[Symbol.dispose]();
    },
  };
}

async function totals(store: DynamoStore): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for await (const row of store.totals(PIPELINE)) if (row.total !== 0n) out.set(row.key, row.total);
  return out;
}

for (const code of ["ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"]) {
  Deno.test(`applyBatch() outlasts transactions cancelled for ${code} beyond their retries`, async () => {
    await using h = await harness("busy");
    // More refusals in a row than one commit retries (8 attempts): the batch must go on.
    h.dynamo.fault = (call) => call < 10 ? canceled(code) : undefined;
    await applyBatch(h.ctx, [insert(0, 1, 100, "a", 5), insert(1, 2, 100, "b", 7)]);
    assert.deepEqual(await totals(h.store), new Map([["a", 5n], ["b", 7n]]));
    assert.ok(h.dynamo.calls > 10);
    assert.ok(h.ctx.metrics.busy.total() >= 1, "the refused rounds are counted");
  });
}

Deno.test("applyBatch() has a busy customer's transactions take turns on its total, which DynamoDB would cancel", async () => {
  await using h = await harness("hot");
  h.dynamo.emulateConflicts = true;
  h.dynamo.delayMs = 20;
  // 500 new orders of "hot" need at least 5 transactions, each updating its total.
  const customer = (id: number) => id % 6 === 0 ? `c${id % 5}` : "hot";
  const ids = Array.from({ length: 600 }, (_, id) => id);
  await applyBatch(h.ctx, ids.map((id) => insert(id, id, 100, customer(id), id % 7 + 1)));
  const expected = new Map<string, bigint>();
  for (const id of ids) {
    expected.set(customer(id), (expected.get(customer(id)) ?? 0n) + BigInt(id % 7 + 1));
  }
  assert.deepEqual(await totals(h.store), expected);
  const hot = itemName(h.store.table, { S: keys.total(PIPELINE, "hot") });
  assert.ok(h.dynamo.touched(hot) >= 5, `${h.dynamo.touched(hot)} transactions on hot's total`);
  assert.deepEqual(
    h.dynamo.conflictedOn.filter((item) => item === hot),
    [],
    "conflicts on hot's total",
  );
  assert.ok(h.dynamo.calls >= 6, `${h.dynamo.calls} transactions`);
});

Deno.test("applyBatch() dead-letters a change rejected in a later round", async () => {
  await using h = await harness("round");
  await applyBatch(h.ctx, [insert(0, 1, 100, "a", 10)]);
  // While the next batch is between reading and writing order 1, another worker (say, a
  // zombie after a rebalance) applies its delete: newer than what the batch read, older than
  // the batch's update.
  h.dynamo.fault = async (call) => {
    if (call === 1) await applyBatch(h.other, [remove(3, 1, 200)]);
    return undefined;
  };
  // The update of order 1 applies to what round 0 read, conflicts, and in round 1 meets a
  // deleted order: a partial update of nothing, which must be dead-lettered.
  await applyBatch(h.ctx, [setAmount(5, 1, 300, 12)]);
  assert.equal(h.ctx.metrics.conflicts.total(), 1, "round 0 conflicted");
  assert.equal(h.ctx.metrics.deadLettered.total(), 1);
  assert.equal(await topicSize(h.dlq), 1);
  assert.deepEqual(await totals(h.store), new Map());
});

Deno.test("applyBatch() finds its cached entry stale after another worker's write, reads it and stays exact", async () => {
  await using h = await harness("stale");
  const ctx = { ...h.ctx, cache: new LedgerCache(100) };
  await applyBatch(ctx, [insert(0, 1, 100, "a", 10), insert(1, 2, 100, "b", 5)]);
  // Behind this worker's back (a rebalance, a zombie), another one moves order 1 to "c".
  await applyBatch(h.other, [update(2, 1, 200, "c", 4)]);
  // This worker's guess for order 1 is stale: the transaction must fail, not double count.
  await applyBatch(ctx, [update(3, 1, 300, "a", 12), update(4, 2, 300, "b", 6)]);
  assert.deepEqual(await totals(h.store), new Map([["a", 12n], ["b", 6n]]));
  assert.equal(ctx.metrics.conflicts.total(), 1, "the stale guess failed its condition");
  assert.equal(ctx.metrics.ledgerGuesses.total(), 4, "2 inserts guessed absent, 2 updates");
  assert.equal(ctx.metrics.ledgerReads.total(), 2, "the refused commit's 2");
  // From now on the guesses are fresh again: no read, no conflict.
  await applyBatch(ctx, [remove(5, 1, 400), update(6, 2, 400, "a", 1)]);
  assert.deepEqual(await totals(h.store), new Map([["a", 1n]]));
  assert.equal(ctx.metrics.ledgerReads.total(), 2);
  assert.equal(ctx.metrics.conflicts.total(), 1);
});

Deno.test("a failed batch leaves no transaction running and no dead letter for the next", async () => {
  await using h = await harness("failed");
  const orders = Array.from({ length: 600 }, (_, i) => insert(i, i, 100, `c${i}`, 1));
  const bad = { ...insert(600, 600, 100, "x", 1), value: encode("not json") };
  h.dynamo.delayMs = 200;
  h.dynamo.fault = (call) =>
    call === 1 ? new ResourceNotFoundException({ message: "injected", $metadata: {} }) : undefined;
  await assert.rejects(applyBatch(h.ctx, [...orders, bad]));
  assert.equal(h.dynamo.inFlight, 0, "transactions still running after the batch failed");
  const calls = h.dynamo.calls;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(h.dynamo.calls, calls, "transactions started after the batch failed");

  // The next batch (the consumer replays the failed one) sends only its own dead letters.
  h.dynamo.delayMs = 0;
  h.dynamo.fault = () => undefined;
  await applyBatch(h.ctx, [insert(700, 700, 100, "y", 3)]);
  assert.equal(await topicSize(h.dlq), 0, "the failed batch's dead letter leaked into the next");
  await applyBatch(h.ctx, [...orders, bad]);
  assert.equal(await topicSize(h.dlq), 1);
  assert.equal((await totals(h.store)).size, 601);
});
