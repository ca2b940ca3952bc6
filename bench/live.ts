/**
 * Live throughput and latency next to its two halves done bare:
 *   (a) a kafkajs eachBatch loop decoding the same topic with decodeCdcMessage;
 *   (b) TransactWriteItems of as many ledger-sized items (100 per transaction, 8 in flight);
 *   (b2) the same number of items of live's own kinds: half conditional ledger Puts, half
 *   ADD updates of their customers' totals in a second table;
 *   live: `--workers` orderstats `--mode=live` children in one consumer group, polled on
 *   /metrics, until the group's committed offsets reach the end of every partition.
 * Then the capacity the workers spent per event (from their /metrics), their RSS as the
 * events went by, and a paced phase's end-to-end latency (see bench/_latency.ts).
 *
 *   deno task bench:live -- --events=50000 --customers=5000 --dist=uniform,zipf,hot \
 *     [--workers=1] [--partitions=3] [--ledger-cache-entries=<n>] \
 *     [--latency-seconds=10] [--latency-rate=1000|auto]
 *   deno task bench:hot     # 3 workers, 6 partitions: uniform, then one customer with half
 *
 * The collection is bootstrapped empty, so every event comes after the handoff. `auto`
 * paces the latency phase at half the measured live throughput.
 *
 * @module
 */
import { type TransactWriteItem, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { MongoClient } from "mongodb";
import { ferretUri } from "../devstack/lib/env.ts";
import { testKafka } from "../devstack/lib/kafka.ts";
import {
  orderstatsOk,
  type Scenario,
  scenario,
  stackFlags,
  storedTotals,
} from "../devstack/lib/scenario.ts";
import { rng } from "../devstack/lib/workload.ts";
import { decodeCdcMessage } from "../src/sources/cdc/mod.ts";
import { orderFields } from "../src/app/orderstats.ts";
import { fieldNames } from "../src/pipeline/fields.ts";
import { ensureTable } from "../src/state/dynamodb/tables.ts";
import { keys, ledgerItem } from "../src/state/dynamodb/items.ts";
import { MAX_TRANSACTION_ITEMS } from "../src/state/dynamodb/ledger.ts";
import { formatVersion } from "../src/state/version.ts";
import { packTimestamp } from "../src/pipeline/change.ts";
import { CdcWorkload, type Distribution, DISTRIBUTIONS } from "./_cdc_workload.ts";
import { measureLatency } from "./_latency.ts";
import { consume, rssGrowth, type RssSample, WorkerGroup } from "./_live_group.ts";
import {
  benchArgs,
  benchDynamo,
  busySince,
  cpuSnapshot,
  dropKafka,
  dropTables,
  machineLine,
  perSecond,
  printTable,
  quantile,
  sameTotals,
  timed,
} from "./_lib.ts";

const args = benchArgs({
  events: 50_000,
  customers: 5_000,
  dist: "uniform,zipf",
  workers: 1,
  partitions: 3,
  "ledger-cache-entries": "default",
  "latency-seconds": 10,
  "latency-rate": "1000",
});
const PARTITIONS = args.partitions;
const N = args.events;

/** Fills the topic with N events, 2 000 per request, keyed like Debezium's. */
async function fill(topic: string, workload: CdcWorkload): Promise<void> {
  const producer = testKafka().producer();
  await producer.connect();
  try {
    for (let from = 0; from < N; from += 2000) {
      const messages = Array.from({ length: Math.min(2000, N - from) }, () => workload.next());
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** A measured rate: events per second, and the machine's CPU busy % meanwhile. */
interface Rate {
  perSecond: number;
  busy: number;
}

/** (a): from the first batch to the N-th decoded message. */
async function bareConsume(topic: string, groupId: string): Promise<Rate> {
  const consumer = testKafka().consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let [n, first, cpu] = [0, 0, cpuSnapshot()];
    const last = await new Promise<number>((resolve, reject) => {
      consumer.run({
        eachBatch: ({ batch }) => {
          if (first === 0) [first, cpu] = [performance.now(), cpuSnapshot()];
          for (const { offset, key, value } of batch.messages) {
            const message = { topic, partition: batch.partition, offset, key, value };
            decodeCdcMessage(message, { fields: fieldNames(orderFields) });
          }
          if ((n += batch.messages.length) >= N) resolve(performance.now());
          return Promise.resolve();
        },
      }).catch(reject);
    });
    return { perSecond: N / ((last - first) / 1000), busy: busySince(cpu) };
  } finally {
    await consumer.disconnect();
  }
}

/**
 * (b): N ledger-sized items, as many per TransactWriteItems as DynamoDB allows, 8 in flight:
 * plain Puts, or (with `totalsTable`, b2) live's kinds: each ledger Put conditional on the entry
 * being absent, with an ADD update of its customer's total in `totalsTable`.
 */
async function bareTransact(table: string, totalsTable?: string): Promise<Rate> {
  const client = benchDynamo();
  try {
    await ensureTable(client, table);
    if (totalsTable) await ensureTable(client, totalsTable);
    const clusterTime = packTimestamp(Math.floor(Date.now() / 1000), 0);
    const put = (n: number): TransactWriteItem => ({
      Put: {
        TableName: table,
        Item: ledgerItem("order_totals", {
          record: `n:${n}`,
          present: true,
          key: `c${n % args.customers}`,
          value: 12_345n,
          version: formatVersion({
            kind: "change",
            clusterTime,
            offsets: new Map([[0, BigInt(n)]]),
          }),
        }),
        ...(totalsTable ? { ConditionExpression: "attribute_not_exists(pk)" } : {}),
      },
    });
    const add = (n: number): TransactWriteItem => ({
      Update: {
        TableName: totalsTable,
        Key: { pk: { S: keys.total("order_totals", `c${n % args.customers}`) } },
        UpdateExpression: "ADD #total :d",
        ExpressionAttributeNames: { "#total": "total" },
        ExpressionAttributeValues: { ":d": { N: "12345" } },
      },
    });
    let next = 0;
    const worker = async () => {
      while (next < N) {
        const from = next;
        next = Math.min(N, next + MAX_TRANSACTION_ITEMS);
        const TransactItems = Array.from(
          { length: next - from },
          (_, j) => totalsTable && j % 2 === 1 ? add(from + j - 1) : put(from + j),
        );
        await client.send(new TransactWriteItemsCommand({ TransactItems }));
      }
    };
    const step = await timed(() => Promise.all(Array.from({ length: 8 }, worker)));
    return { perSecond: N / step.seconds, busy: step.busy };
  } finally {
    client.destroy();
  }
}

interface BatchStats {
  count: number;
  seconds: number;
  meanMs: number;
}

/** The worker's batch histogram (count, total seconds), minus an earlier reading. */
function batchStats(metrics: Map<string, number>, since?: BatchStats): BatchStats {
  const count = (metrics.get("orderstats_batch_seconds_count") ?? 0) - (since?.count ?? 0);
  const seconds = (metrics.get("orderstats_batch_seconds_sum") ?? 0) - (since?.seconds ?? 0);
  return { count, seconds, meanMs: (1000 * seconds) / Math.max(1, count) };
}

/** Creates the table and the topic, bootstraps the empty collection: the handoff's second. */
async function handoffSecond(s: Scenario): Promise<number> {
  await orderstatsOk([
    "--mode=setup",
    "--create-topic",
    `--topic-partitions=${PARTITIONS}`,
    ...stackFlags(s),
  ]);
  const flags = ["--bad-records-file=/dev/null", "--log-level=warn"];
  const boot = await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), ...flags]);
  return JSON.parse(boot.stdout.trim().split("\n").at(-1)!).clusterTime.t;
}

const row = (label: string, r: Rate) => [
  label,
  Number.isNaN(r.perSecond) ? "n/a" : Math.round(r.perSecond),
  `${r.busy.toFixed(0)}%`,
];

/** The workers' flags: the stack's, and the ledger cache size when one is asked for. */
function workerFlags(s: Scenario): string[] {
  const cache = args["ledger-cache-entries"];
  return [
    ...stackFlags(s),
    "--log-level=warn",
    ...(cache === "default" ? [] : [`--ledger-cache-entries=${cache}`]),
  ];
}

/** Per event: what the workers read and wrote, in DynamoDB's units (items ≤ 1 KB / 4 KB). */
function printCapacity(
  phase: string,
  events: number,
  metrics: Map<string, number>,
  since = new Map<string, number>(),
): void {
  const get = (name: string) => (metrics.get(name) ?? 0) - (since.get(name) ?? 0);
  const per = (n: number) => (n / events).toFixed(2);
  const reads = get("orderstats_ledger_reads_total");
  const committed = committedItems(metrics, since);
  const refused = get('orderstats_transaction_items_total{outcome="refused"}');
  console.log(
    `${phase}, per event: ledger reads ${per(reads)} (read units), guesses ` +
      `${per(get("orderstats_ledger_guesses_total"))}, transaction items ${per(committed)} ` +
      `(write units ${per(2 * committed)}), refused items ${per(refused)}`,
  );
  const busy = [...metrics].filter(([name]) => name.startsWith("orderstats_ledger_busy_total{"))
    .map(([name]) => `${/reason="(.*)"/.exec(name)?.[1]} ${get(name)}`).join(", ");
  console.log(
    `conflicts ${get("orderstats_ledger_conflicts_total")}; retries ` +
      `${get("orderstats_retries_total")}; busy: ${busy}`,
  );
}

/** Items of the workers' committed transactions, minus an earlier reading. */
function committedItems(metrics: Map<string, number>, since = new Map<string, number>()): number {
  const name = 'orderstats_transaction_items_total{outcome="committed"}';
  return (metrics.get(name) ?? 0) - (since.get(name) ?? 0);
}

/** Each worker's RSS over the run, and its growth from a tenth of the events to the end. */
function printRss(rss: readonly RssSample[]): void {
  const mb = (values: number[]) => values.map((v) => v.toFixed(0)).join(" / ");
  for (const { share, mb: values, heapMb, heapTotalMb, externalMb } of rss) {
    console.log(
      `RSS at ${(share * 100).toFixed(0)}% of the events: ${mb(values)} MB (V8 heap in use ` +
        `${mb(heapMb)}, reserved ${mb(heapTotalMb)}, external ${mb(externalMb)} MB)`,
    );
  }
  const growth = rssGrowth(rss).map((g) => `${(100 * g).toFixed(1)}%`).join(" / ");
  console.log(`RSS growth from 10% to 100% of the events: ${growth}`);
}

/** The paced phase: latency from produce to committed offset, and the batches meanwhile. */
async function latencyPhase(
  s: Scenario,
  workers: WorkerGroup,
  workload: CdcWorkload,
  rate: number,
): Promise<void> {
  const before = await workers.metrics();
  const loaded = batchStats(before);
  const latencies = await measureLatency({
    topic: s.topic,
    group: s.group,
    partitions: PARTITIONS,
    rate,
    seconds: args["latency-seconds"],
    next: () => workload.next(),
  });
  const after = await workers.metrics();
  const paced = batchStats(after, loaded);
  const ms = (q: number) => quantile(latencies, q).toFixed(0);
  console.log(
    `latency at ${rate} events/s for ${args["latency-seconds"]} s (${latencies.length} events, ` +
      `produce -> offset committed): p50 ${ms(0.5)} ms, p99 ${ms(0.99)} ms, max ${ms(1)} ms; ` +
      `${paced.count} batches, mean ${paced.meanMs.toFixed(0)} ms`,
  );
  printCapacity(`paced at ${rate}/s`, latencies.length, after, before);
}

/** The topic filled with N events of `dist`, and the workload that made them. */
async function prepare(s: Scenario, dist: Distribution): Promise<CdcWorkload> {
  const workload = new CdcWorkload({
    db: s.db,
    collection: s.collection,
    clusterSecond: await handoffSecond(s) + 1,
    customers: args.customers,
    dist,
    random: rng(7),
  });
  const filled = await timed(() => fill(s.topic, workload));
  console.log(`topic filled in ${filled.seconds.toFixed(1)} s (${perSecond(N, filled.seconds)}/s)`);
  return workload;
}

async function bench(dist: Distribution): Promise<void> {
  const s = scenario(`bench_live_${dist}`);
  const bare = { table: `${s.table}_bare`, group: `${s.group}_bare` };
  const admin = testKafka().admin();
  await admin.connect();
  try {
    console.log(
      `\nlive bench, ${dist}: ${N} events over ${args.customers} customers, ` +
        `${args.workers} worker(s), ${PARTITIONS} partitions`,
    );
    console.log(machineLine());
    const workload = await prepare(s, dist);
    const a = await bareConsume(s.topic, bare.group);
    const b = await bareTransact(bare.table);
    const b2 = await bareTransact(`${bare.table}_kinds`, `${bare.table}_totals`);
    await dropTables([bare.table, `${bare.table}_kinds`, `${bare.table}_totals`]);

    const spawnedAt = performance.now();
    await using workers = new WorkerGroup(args.workers, workerFlags(s));
    const live = await consume(workers, admin, {
      topic: s.topic,
      groupId: s.group,
      events: N,
      spawnedAt,
    });
    // The group has drained the topic: one reading serves every backlog figure below.
    const drained = await workers.metrics();
    const loaded = batchStats(drained);
    printTable([
      ["step", "events/s", "cpu busy"],
      row("(a) kafkajs eachBatch + decodeCdcMessage", a),
      row(`(b) TransactWriteItems, ${MAX_TRANSACTION_ITEMS} items x 8 in flight`, b),
      row("(b2) the same, live's kinds (items/s)", b2),
      row("live, first progress -> all committed", live),
    ]);
    const items = committedItems(drained) / N;
    if (Number.isNaN(live.perSecond)) {
      console.log(
        `live/(b): n/a, the first poll already saw all ${N} events: use more --events`,
      );
      console.log(`live's items: ${items.toFixed(2)} per event`);
    } else {
      console.log(`live/(b) = ${(live.perSecond / b.perSecond).toFixed(2)}`);
      console.log(
        `live's items: ${items.toFixed(2)} per event, ${(live.perSecond * items).toFixed(0)}/s; ` +
          `items/s vs (b2) = ${(live.perSecond * items / b2.perSecond).toFixed(2)}`,
      );
    }
    console.log(`live start-up (spawn -> first progress seen): ${live.startup.toFixed(1)} s`);
    console.log(`live batches: ${loaded.count}, mean ${loaded.meanMs.toFixed(0)} ms`);
    printCapacity("backlog", N, drained);
    printRss(live.rss);

    const rate = args["latency-rate"] === "auto"
      ? Math.max(50, Math.round(live.perSecond / 2) || 0)
      : Number(args["latency-rate"]);
    await latencyPhase(s, workers, workload, rate);
    const match = sameTotals(await storedTotals(s), workload.totals);
    console.log(`totals vs the events' own sums: ${match ? "match" : "MISMATCH"}`);
  } finally {
    await admin.disconnect();
    await dropKafka([s.topic], [s.group, bare.group]);
    await dropTables([s.table, bare.table]);
    const mongo = new MongoClient(ferretUri());
    await mongo.db(s.db).dropDatabase().catch(() => {});
    await mongo.close();
  }
}

const dists = args.dist.split(",") as Distribution[];
if (!dists.every((d) => DISTRIBUTIONS.includes(d))) {
  throw new RangeError(`--dist must list ${DISTRIBUTIONS.join(", ")}: got "${args.dist}"`);
}
if (args["latency-rate"] !== "auto" && !(Number(args["latency-rate"]) > 0)) {
  throw new RangeError(
    `--latency-rate must be auto or a positive number: got "${args["latency-rate"]}"`,
  );
}
// (b2) updates distinct totals within a transaction of 100 consecutive orders.
if (args.customers < MAX_TRANSACTION_ITEMS) {
  throw new RangeError(
    `--customers must be at least ${MAX_TRANSACTION_ITEMS}: got ${args.customers}`,
  );
}
const cacheEntries = args["ledger-cache-entries"];
if (cacheEntries !== "default" && !(Number.isSafeInteger(Number(cacheEntries)))) {
  throw new RangeError(`--ledger-cache-entries must be an integer: got "${cacheEntries}"`);
}
for (const dist of dists) await bench(dist);
