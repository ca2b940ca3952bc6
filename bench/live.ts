/**
 * Live throughput and latency next to its two halves done bare:
 *   (a) a kafkajs eachBatch loop decoding the same topic with decodeCdcMessage;
 *   (b) TransactWriteItems of as many ledger-sized items (100 per transaction, 8 in flight);
 *   live: orderstats `--mode=live` as a child, polled on /metrics until all is consumed.
 * Then a paced phase measures end-to-end latency (see bench/_latency.ts).
 *
 *   deno task bench:live -- --events=50000 --customers=5000 --dist=uniform|zipf|both \
 *     [--latency-seconds=10] [--latency-rate=auto|<events/s>]
 *
 * The topic has 3 partitions; the collection is bootstrapped empty, so every event comes
 * after the handoff. `auto` paces the latency phase at half the measured live throughput.
 *
 * @module
 */
import { TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { MongoClient } from "mongodb";
import { ferretUri } from "../devstack/lib/env.ts";
import { testKafka } from "../devstack/lib/kafka.ts";
import {
  LiveWorker,
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
import { ledgerItem } from "../src/state/dynamodb/items.ts";
import { MAX_TRANSACTION_ITEMS } from "../src/state/dynamodb/ledger.ts";
import { formatVersion } from "../src/state/version.ts";
import { packTimestamp } from "../src/pipeline/change.ts";
import { CdcWorkload, type Distribution } from "./_cdc_workload.ts";
import { measureLatency } from "./_latency.ts";
import {
  benchArgs,
  benchDynamo,
  busySince,
  type CpuSnapshot,
  cpuSnapshot,
  dropKafka,
  dropTables,
  freePort,
  machineLine,
  perSecond,
  printTable,
  quantile,
  sameTotals,
  timed,
} from "./_lib.ts";

const PARTITIONS = 3;
const args = benchArgs({
  events: 50_000,
  customers: 5_000,
  dist: "both",
  "latency-seconds": 10,
  "latency-rate": "auto",
});
const N = args.events;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** (b): N ledger-sized items, as many per TransactWriteItems as DynamoDB allows, 8 in flight. */
async function bareTransact(table: string): Promise<Rate> {
  const client = benchDynamo();
  try {
    await ensureTable(client, table);
    const clusterTime = packTimestamp(Math.floor(Date.now() / 1000), 0);
    let next = 0;
    const worker = async () => {
      while (next < N) {
        const from = next;
        next = Math.min(N, next + MAX_TRANSACTION_ITEMS);
        const TransactItems = Array.from({ length: next - from }, (_, j) => ({
          Put: {
            TableName: table,
            Item: ledgerItem("order_totals", {
              record: `n:${from + j}`,
              present: true,
              key: `c${(from + j) % args.customers}`,
              value: 12_345n,
              version: formatVersion({
                kind: "change",
                clusterTime,
                offsets: new Map([[0, BigInt(from + j)]]),
              }),
            }),
          },
        }));
        await client.send(new TransactWriteItemsCommand({ TransactItems }));
      }
    };
    const step = await timed(() => Promise.all(Array.from({ length: 8 }, worker)));
    return { perSecond: N / step.seconds, busy: step.busy };
  } finally {
    client.destroy();
  }
}

/** Metrics → (events seen, every partition's lag is 0). */
async function progress(worker: LiveWorker): Promise<{ seen: number; caughtUp: boolean }> {
  const metrics = await worker.metrics();
  let seen = 0;
  const lags: number[] = [];
  for (const [name, value] of metrics) {
    // Covered and stale changes are counted in events_total too.
    if (/^orderstats_(events|dead_lettered)_total/.test(name)) seen += value;
    if (name.startsWith("orderstats_consumer_lag{")) lags.push(value);
  }
  return { seen, caughtUp: lags.length === PARTITIONS && lags.every((l) => l === 0) };
}

/** Live: polls /metrics every 100 ms until N events are seen and lag is 0 everywhere. */
async function consumeLive(worker: LiveWorker, spawnedAt: number) {
  let first: { at: number; seen: number; cpu: CpuSnapshot } | undefined;
  const deadline = Date.now() + Math.max(300_000, N * 5);
  while (Date.now() < deadline) {
    await sleep(100);
    const now = performance.now();
    const p = await progress(worker).catch(() => undefined);
    if (p === undefined || p.seen === 0) continue;
    first ??= { at: now, seen: p.seen, cpu: cpuSnapshot() };
    if (p.seen >= N && p.caughtUp) {
      const perSecond = (N - first.seen) / ((now - first.at) / 1000);
      return { perSecond, busy: busySince(first.cpu), startup: (first.at - spawnedAt) / 1000 };
    }
  }
  throw new Error(`live did not consume ${N} events in time`);
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

const row = (label: string, r: Rate) => [label, Math.round(r.perSecond), `${r.busy.toFixed(0)}%`];

async function bench(dist: Distribution): Promise<void> {
  const s = scenario(`bench_live_${dist}`);
  const bare = { table: `${s.table}_bare`, group: `${s.group}_bare` };
  let worker: LiveWorker | undefined;
  try {
    console.log(`\nlive bench, ${dist}: ${N} events over ${args.customers} customers`);
    console.log(machineLine());
    const workload = new CdcWorkload({
      db: s.db,
      collection: s.collection,
      clusterSecond: await handoffSecond(s) + 1,
      customers: args.customers,
      dist,
      random: rng(7),
    });
    const filled = await timed(() => fill(s.topic, workload));
    console.log(
      `topic filled in ${filled.seconds.toFixed(1)} s (${perSecond(N, filled.seconds)}/s)`,
    );

    const a = await bareConsume(s.topic, bare.group);
    const b = await bareTransact(bare.table);
    await dropTables([bare.table]);

    const spawnedAt = performance.now();
    worker = new LiveWorker([...stackFlags(s), "--log-level=warn"], freePort());
    const live = await consumeLive(worker, spawnedAt);
    const loaded = batchStats(await worker.metrics());
    printTable([
      ["step", "events/s", "cpu busy"],
      row("(a) kafkajs eachBatch + decodeCdcMessage", a),
      row(`(b) TransactWriteItems, ${MAX_TRANSACTION_ITEMS} items x 8 in flight`, b),
      row("live, first progress -> all consumed, lag 0", live),
    ]);
    console.log(`live/(b) = ${(live.perSecond / b.perSecond).toFixed(2)}`);
    console.log(`live start-up (spawn -> first progress seen): ${live.startup.toFixed(1)} s`);
    console.log(`live batches: ${loaded.count}, mean ${loaded.meanMs.toFixed(0)} ms`);

    const rate = args["latency-rate"] === "auto"
      ? Math.max(50, Math.round(live.perSecond / 2))
      : Number(args["latency-rate"]);
    const latencies = await measureLatency({
      topic: s.topic,
      group: s.group,
      partitions: PARTITIONS,
      rate,
      seconds: args["latency-seconds"],
      next: () => workload.insert(),
    });
    const paced = batchStats(await worker.metrics(), loaded);
    const ms = (q: number) => quantile(latencies, q).toFixed(0);
    console.log(
      `latency at ${rate} events/s for ${args["latency-seconds"]} s (${latencies.length} events, ` +
        `produce -> offset committed): p50 ${ms(0.5)} ms, p99 ${ms(0.99)} ms, max ${ms(1)} ms; ` +
        `${paced.count} batches, mean ${paced.meanMs.toFixed(0)} ms`,
    );
    const match = sameTotals(await storedTotals(s), workload.totals);
    console.log(`totals vs the events' own sums: ${match ? "match" : "MISMATCH"}`);
  } finally {
    await worker?.stop("SIGTERM");
    await dropKafka([s.topic], [s.group, bare.group]);
    await dropTables([s.table, bare.table]);
    const mongo = new MongoClient(ferretUri());
    await mongo.db(s.db).dropDatabase().catch(() => {});
    await mongo.close();
  }
}

const dists: Distribution[] = args.dist === "both"
  ? ["uniform", "zipf"]
  : [args.dist as Distribution];
if (!dists.every((d) => d === "uniform" || d === "zipf")) {
  throw new RangeError(`--dist must be uniform, zipf or both: got "${args.dist}"`);
}
if (args["latency-rate"] !== "auto" && !(Number(args["latency-rate"]) > 0)) {
  throw new RangeError(
    `--latency-rate must be auto or a positive number: got "${args["latency-rate"]}"`,
  );
}
for (const dist of dists) await bench(dist);
