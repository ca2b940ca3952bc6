/**
 * Bootstrap throughput next to its two halves done bare:
 *   (a) a driver scan of the collection, as orderstats reads it;
 *   (b) BatchWriteItem of as many ledger items with the project's BatchWriter;
 *   (c) orderstats `--mode=bootstrap` as a child process: wall time and peak RSS.
 * For each P > 1 of `--parallel` (a comma list, default `1,4`), the same three again split
 * P ways: P range scans at once over the `_id` ranges orderstats cuts, P BatchWriters at
 * once, and `--mode=bootstrap --parallel=P`.
 *
 *   deno task bench:bootstrap -- --orders=200000 --customers=20000 \
 *     [--parallel=1,4] [--verify=group|seeded] [--v8-flags=…]
 *
 * The stored totals are checked against MongoDB's `$group` (`--verify=group`, the default) or,
 * as FerretDB's `$group` takes ~25 min at 1M orders over 100k customers, against the sums of
 * what was inserted (`--verify=seeded`). `--v8-flags` goes to the orderstats child's
 * `deno run` (default: the compiled binary's, from deno.json; e.g. heap limits, to compare
 * peak RSS; `--v8-flags=` for V8's defaults).
 *
 * Orders are seeded straight into FerretDB (the proxy's change history stays untouched);
 * (a) and (c) read through the change-stream proxy, the project's Mongo endpoint.
 *
 * @module
 */
import { type Collection, type Document, Long, MongoClient } from "mongodb";
import { ferretUri, mongoUri } from "../devstack/lib/env.ts";
import {
  BINARY_V8_FLAGS,
  mongoTotals,
  orderstatsOk,
  type Scenario,
  scenario,
  stackFlags,
} from "../devstack/lib/scenario.ts";
import { rangeFilter, splitPoints } from "../src/sources/mongo/id_ranges.ts";
import { rng } from "../devstack/lib/workload.ts";
import { BatchWriter } from "../src/state/dynamodb/batch_writer.ts";
import { ensureTable } from "../src/state/dynamodb/tables.ts";
import { ledgerItem } from "../src/state/dynamodb/items.ts";
import { bootstrapVersion } from "../src/state/version.ts";
import { packTimestamp } from "../src/pipeline/change.ts";
import {
  benchArgs,
  benchDynamo,
  dropTables,
  machineLine,
  orderstatsTimed,
  perSecond,
  printTable,
  sameTotals,
  type Timed,
  timed,
  totalsOf,
} from "./_lib.ts";

const SEED_BATCH = 10_000;
const args = benchArgs({
  orders: 200_000,
  customers: 20_000,
  verify: "group",
  "v8-flags": BINARY_V8_FLAGS.map((flag) => flag.slice("--v8-flags=".length)).join(","),
  parallel: "1,4",
});
if (args.verify !== "group" && args.verify !== "seeded") {
  throw new RangeError(`--verify must be group or seeded: got "${args.verify}"`);
}
const PARALLEL = args.parallel.split(",").map(Number);
if (!PARALLEL.every((p) => Number.isSafeInteger(p) && p >= 1)) {
  throw new RangeError(`--parallel must list positive integers: got "${args.parallel}"`);
}
const [N, K] = [args.orders, args.customers];

/** Order `i` of the seeded collection (int64 amounts). */
function order(i: number, random: () => number) {
  return {
    _id: i,
    customer_id: `c${Math.floor(random() * K)}`,
    amount: Long.fromNumber(Math.floor(random() * 100_000)),
  };
}

/** Inserts the N orders; returns their per-customer sums. */
async function seed(orders: Collection): Promise<Map<string, bigint>> {
  const random = rng(42);
  const sums = new Map<string, bigint>();
  for (let from = 0; from < N; from += SEED_BATCH) {
    const docs: Document[] = [];
    for (let i = from; i < Math.min(N, from + SEED_BATCH); i++) {
      const doc = order(i, random);
      sums.set(doc.customer_id, (sums.get(doc.customer_id) ?? 0n) + doc.amount.toBigInt());
      docs.push(doc);
    }
    await orders.insertMany(docs, { ordered: false });
  }
  return sums;
}

/** (a): what the driver alone reads per second, the way the bootstrap scan asks. */
async function scan(orders: Collection): Promise<number> {
  let n = 0;
  const cursor = orders.find({}, { sort: { _id: 1 }, batchSize: 1000, promoteValues: false });
  for await (const _ of cursor) n++;
  if (n !== N) throw new Error(`scan read ${n} documents, expected ${N}`);
  return n;
}

/** (a·P): the `_id` ranges orderstats would cut, scanned at once by the driver alone. */
async function rangeScans(orders: Collection, parallel: number): Promise<Timed<number>> {
  const cuts = await splitPoints(orders, parallel);
  return await timed(async () => {
    const counts = await Promise.all(
      Array.from({ length: cuts.length + 1 }, async (_, i) => {
        let n = 0;
        // FerretDB names (and holds) none of the rare BSON types orderstats also asks for.
        const filter = rangeFilter(cuts[i - 1], cuts[i], { rareTypes: false });
        const cursor = orders.find(filter, {
          sort: { _id: 1 },
          batchSize: 1000,
          promoteValues: false,
        });
        for await (const _ of cursor) n++;
        return n;
      }),
    );
    const n = counts.reduce((a, b) => a + b, 0);
    if (n !== N) throw new Error(`range scans read ${n} documents, expected ${N}`);
    return n;
  });
}

/**
 * (b): N ledger-shaped items through the project's BatchWriter (16 in flight); with
 * `writers` > 1, that many BatchWriters at once (16 in flight each), N / writers items each.
 */
async function batchWrite(table: string, writers = 1): Promise<Timed<void>> {
  const client = benchDynamo();
  try {
    await ensureTable(client, table);
    const version = bootstrapVersion(packTimestamp(Math.floor(Date.now() / 1000), 0));
    const share = Math.ceil(N / writers);
    return await timed(async () => {
      await Promise.all(Array.from({ length: writers }, async (_, w) => {
        const writer = new BatchWriter(client, table, { concurrency: 16 });
        const random = rng(42 + w);
        for (let i = w * share; i < Math.min(N, (w + 1) * share); i++) {
          const { customer_id, amount } = order(i, random);
          const entry = { record: `n:${i}`, present: true, key: customer_id, version };
          const item = ledgerItem("order_totals", { ...entry, value: BigInt(amount.toString()) });
          await writer.add({ PutRequest: { Item: item } });
        }
        await writer.flush();
      }));
    });
  } finally {
    client.destroy();
  }
}

/** A table row: label, seconds, docs/s, machine busy %, and the rate's ratio to `floor`. */
function row(label: string, step: Timed<unknown>, floor?: number): (string | number)[] {
  const rate = perSecond(N, step.seconds);
  const ratio = floor === undefined ? "" : (rate / floor).toFixed(2);
  return [label, step.seconds.toFixed(1), rate, `${step.busy.toFixed(0)}%`, ratio];
}

/** One bootstrap of the seeded collection into a table of its own; checks its totals. */
async function bootstrapRun(s: Scenario, parallel: number, truth: Map<string, bigint>) {
  const own = { ...s, table: `${s.table}_p${parallel}` };
  await orderstatsOk(["--mode=setup", ...stackFlags(own)]);
  const flags = [
    `--bad-records-file=${badRecords}`,
    "--log-level=warn",
    ...(parallel > 1 ? [`--parallel=${parallel}`] : []),
  ];
  const run = await orderstatsTimed(
    ["--mode=bootstrap", ...stackFlags(own), ...flags],
    args["v8-flags"],
  );
  if (run.value.code !== 0) {
    throw new Error(`bootstrap exited ${run.value.code}:\n${run.value.stderr.slice(-3000)}`);
  }
  const summary = JSON.parse(run.value.stdout.trim().split("\n").at(-1)!);
  const stored = await totalsOf(own.table, own.pipeline, [...truth.keys()]);
  const keys = summary.keys;
  const match = sameTotals(stored, truth) && keys === truth.size;
  await dropTables([own.table, `${own.table}_ledger`]);
  return { run, summary, match };
}

const s = scenario("bench_boot");
const bareTable = `${s.table}_bare`;
const ferret = new MongoClient(ferretUri());
const proxy = new MongoClient(mongoUri());
const badRecords = await Deno.makeTempFile({ suffix: ".jsonl" });
try {
  await Promise.all([ferret.connect(), proxy.connect()]);
  console.log(`bootstrap bench: ${N} orders over ${K} customers, db ${s.db}`);
  console.log(machineLine());
  const seeded = await timed(() => seed(ferret.db(s.db).collection(s.collection)));
  console.log(`seeded in ${seeded.seconds.toFixed(1)} s (${perSecond(N, seeded.seconds)}/s)`);
  const truth = args.verify === "group"
    ? await timed(() => mongoTotals(ferret.db(s.db).collection(s.collection)))
    : { ...seeded, seconds: 0 };
  const against = args.verify === "group"
    ? `$group, ${truth.value.size} customers, ${truth.seconds.toFixed(1)} s`
    : `the inserted orders' sums, ${truth.value.size} customers`;
  const orders = proxy.db(s.db).collection(s.collection);

  const rows: (string | number)[][] = [[
    "step",
    "seconds",
    "docs/s",
    "cpu busy",
    "vs min(scan,write)",
  ]];
  const notes: string[] = [];
  for (const p of PARALLEL) {
    const a = p === 1 ? await timed(() => scan(orders)) : await rangeScans(orders, p);
    const b = await batchWrite(bareTable, p);
    await dropTables([bareTable]);
    const c = await bootstrapRun(s, p, truth.value);
    const floor = Math.min(perSecond(N, a.seconds), perSecond(N, b.seconds));
    const tag = p === 1 ? "" : ` ×${p}`;
    rows.push(
      row(p === 1 ? "(a) driver scan via the proxy" : `(a) ${p} range scans at once`, a),
      row(`(b) BatchWriter${tag}, 16 in flight each`, b),
      row(`(c) orderstats bootstrap${p === 1 ? "" : ` --parallel=${p}`}`, c.run, floor),
      row("    (info) its summary's own seconds", { ...c.run, seconds: c.summary.seconds }, floor),
    );
    const v8 = `, --v8-flags=${args["v8-flags"]}`;
    notes.push(
      `(c${tag}) peak RSS ${c.run.value.peakRssMb.toFixed(0)} MB (GNU time -v${v8}); ` +
        `totals vs ${against}: ${c.match ? "match" : "MISMATCH"}`,
    );
  }
  printTable(rows);
  for (const note of notes) console.log(note);
} finally {
  await ferret.db(s.db).dropDatabase().catch(() => {});
  await Promise.all([ferret.close(), proxy.close()]);
  await dropTables([s.table, bareTable]);
  await Deno.remove(badRecords).catch(() => {});
}
