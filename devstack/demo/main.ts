/**
 * The orderstats demo (`scripts/demo.sh`, `deno task demo`): the whole product on the local
 * stack, step by step, checked against MongoDB's own `$group` at the end.
 *
 *  1. start the local stack         7. start live mode (background, log in .stack/logs/)
 *  2. fresh names, old runs removed 8. change more orders through the driver
 *  3. seed orders                   9. wait until live mode has caught up
 *  4. --mode=setup --create-topic  10. compare totals with $group: "match" or the differences
 *  5. start the Debezium relay     11. --mode=audit while live runs, more orders changing
 *  6. --mode=bootstrap while orders change
 *                                  12. stop live mode and the relay (the stack stays up)
 *
 * Exit code: 0 when the totals match and the audit reports no drift, 1 on differences or
 * failure, 130 when interrupted.
 *
 * @module
 */
import { join } from "node:path";
import { EJSON } from "bson";
import { type Collection, MongoClient } from "mongodb";
import { ddbEndpoint, kafkaBrokers, mongoUri } from "../lib/env.ts";
import { type Scenario, stackFlags } from "../lib/scenario.ts";
import { LOG_DIR, rel, STACK_DIR } from "../lib/paths.ts";
import { removeEarlierRuns } from "./cleanup.ts";
import { compareTotals, printComparison, waitForMatch } from "./compare.ts";
import { isReady, outcomeSamples, scrape } from "./metrics.ts";
import { demoScenario } from "./names.ts";
import { type DemoOptions, parseDemoOptions, USAGE } from "./options.ts";
import { describeCounts, OrderWorkload } from "./orders.ts";
import { Background, freePort, runOrderstats, runVisible } from "./processes.ts";
import { detail, grouped, since, Steps } from "./report.ts";
import { muteKafkajsTimerWarning } from "../../src/sources/kafka/client.ts";

const DEMO_DIR = join(STACK_DIR, "demo");
const RELAY_STATE = join(DEMO_DIR, "relay-state.json");
const LIVE_LOG = join(LOG_DIR, "demo-live.log");
const RELAY_LOG = join(LOG_DIR, "demo-relay.log");

/** Background processes to stop on the way out, whatever happens. */
const background: Background[] = [];

async function demo(options: DemoOptions): Promise<number> {
  const steps = new Steps(12);
  console.log(
    "orderstats demo: MongoDB orders → bootstrap + Kafka CDC → per-customer totals in " +
      "DynamoDB, checked against MongoDB's $group.",
  );

  await steps.run("Start the local stack (deno task stack:up)", async () => {
    if (await runVisible("devstack/stack.ts", ["up"]) !== 0) {
      throw new Error("the local stack did not start (see above; service logs in .stack/logs/)");
    }
  });

  const s = demoScenario();
  await steps.run("Use fresh names, remove earlier demo runs", async () => {
    const removed = await removeEarlierRuns();
    const what = Object.entries(removed).map(([kind, names]) => `${kind} ${names.length}`);
    detail(`removed from earlier runs: ${what.join(", ")}`);
    detail(
      `MongoDB ${s.db}.${s.collection}, DynamoDB table ${s.table}, ` +
        `Kafka topic ${s.topic}, consumer group ${s.group}`,
    );
  });

  const mongo = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 10_000 });
  await mongo.connect();
  try {
    const orders = mongo.db(s.db).collection(s.collection);
    const workload = new OrderWorkload(orders, options);
    return await withOrders(steps, s, options, orders, workload);
  } finally {
    await stopBackground();
    await mongo.close();
  }
}

async function withOrders(
  steps: Steps,
  s: Scenario,
  options: DemoOptions,
  orders: Collection,
  workload: OrderWorkload,
): Promise<number> {
  await steps.run(
    `Seed ${grouped(options.orders)} orders over ${grouped(options.customers)} customers`,
    async () => {
      let shown = performance.now();
      const examples = await workload.seed(options.orders, (done) => {
        if (performance.now() - shown < 2_000) return;
        shown = performance.now();
        detail(`${grouped(done)} inserted`);
      });
      detail("examples (canonical extended JSON: the 4 _id types, int64 amounts in cents):");
      for (const doc of examples) detail(`  ${EJSON.stringify(doc, { relaxed: false })}`);
    },
  );

  await steps.run(
    "Create the table and the topic (orderstats --mode=setup --create-topic)",
    () => orderstatsOk("setup", ["--mode=setup", "--create-topic", ...stackFlags(s)]),
  );

  await steps.run(
    "Start the Debezium relay (MongoDB change stream → Kafka, from now)",
    async () => {
      await Deno.mkdir(DEMO_DIR, { recursive: true });
      await Deno.remove(RELAY_STATE).catch(() => {});
      const relay = await Background.start("relay", "devstack/debezium-relay.ts", [
        `--mongo-uri=${mongoUri()}`,
        `--db=${s.db}`,
        `--collection=${s.collection}`,
        `--brokers=${kafkaBrokers().join(",")}`,
        `--topic=${s.topic}`,
        `--state-file=${RELAY_STATE}`,
        "--from-now",
      ], RELAY_LOG);
      background.push(relay);
      // The relay saves its first resume token once its change stream is open.
      await relay.waitFor(
        () => Deno.stat(RELAY_STATE).then(() => true, () => false),
        30_000,
        "the relay to open its change stream",
      );
      detail(`relay pid ${relay.pid}, log ${rel(RELAY_LOG)}`);
      detail("(stands in for Debezium's MongoDB connector: same keys and envelopes)");
    },
  );

  await steps.run(
    "Bootstrap: snapshot → totals + ledger + handoff, while orders keep changing",
    () => bootstrap(s, workload),
  );

  const port = freePort();
  const live = await steps.run("Start live mode (background)", async () => {
    const worker = await Background.start("live", "main.ts", [
      "--mode=live",
      `--http-port=${port}`,
      ...stackFlags(s),
    ], LIVE_LOG);
    background.push(worker);
    await worker.waitFor(() => isReady(port), 60_000, "live mode to be ready (/readyz)");
    detail(`live pid ${worker.pid}, log ${rel(LIVE_LOG)}`);
    detail(`health and metrics: http://127.0.0.1:${port}/readyz, /metrics`);
    return worker;
  });

  await steps.run(
    `Change ${grouped(options.changes)} orders through the MongoDB driver`,
    async () => {
      let shown = performance.now();
      const started = performance.now();
      const counts = await workload.apply(options.changes, {
        onProgress: (done) => {
          if (performance.now() - shown < 10_000) return;
          shown = performance.now();
          detail(`${done}/${options.changes} changes (${since(started)})`);
        },
      });
      detail(describeCounts(counts));
      detail(`${grouped(workload.size)} orders now`);
      detail("(each update or delete takes a while here: the dev change-stream proxy serializes");
      detail(" writes and re-reads the document from FerretDB; a real MongoDB is far faster)");
    },
  );

  const comparison = await steps.run("Wait until live mode has caught up", async () => {
    let exited = false;
    live.exited.then(() => exited = true);
    const result = await waitForMatch(orders, s, {
      port,
      timeoutMs: options.timeoutSeconds * 1000,
      stopped: () => exited,
    });
    if (exited) detail(`live mode exited early; its log ends:\n${await live.tail()}`);
    else if (result.differences.length > 0) {
      detail(`gave up after ${options.timeoutSeconds} s (--timeout)`);
    }
    detail("live mode's /metrics, what happened to each CDC message:");
    for (const line of outcomeSamples(await scrape(port))) detail(`  ${line}`);
    return result;
  });

  const final = await steps.run("Compare per-customer totals with MongoDB's $group", async () => {
    // After a timeout, read once more: the final word.
    const result = comparison.differences.length === 0
      ? comparison
      : await compareTotals(orders, s);
    printComparison(result);
    return result;
  });

  const audit = await steps.run(
    "Audit: orderstats --mode=audit while live runs and orders keep changing",
    () => auditWhileChanging(s, workload),
  );

  await steps.run("Stop live mode and the relay (SIGTERM)", async () => {
    for (const child of background.splice(0).reverse()) {
      const { code, signal } = await child.stop();
      detail(`${child.name}: exit ${signal ?? code} (log ${rel(child.logFile)})`);
    }
  });

  console.log(
    `\nDone in ${steps.elapsed}. The stack is still up: stop it with ` +
      "`scripts/deno.sh task stack:down`.",
  );
  console.log(
    `Look at the totals yourself: scripts/deno.sh run -A main.ts --mode=totals ` +
      `--ddb-endpoint=${ddbEndpoint()} ` +
      `--ddb-table=${s.table}`,
  );
  const { differences } = final;
  if (audit.drifted > 0) {
    console.log(`\nAUDIT: ${audit.drifted} of ${audit.compared} customers drifted`);
    return 1;
  }
  if (differences.length === 0) {
    console.log("\nmatch");
    return 0;
  }
  const customers = differences.length === 1 ? "1 customer" : `${differences.length} customers`;
  console.log(`\nDIFFERENCES: ${customers}`);
  const money = (v?: bigint) => v === undefined ? "(none)" : grouped(v);
  for (const d of differences.slice(0, 20)) {
    console.log(`  ${d.customer}: MongoDB ${money(d.mongo)}, orderstats ${money(d.stored)}`);
  }
  if (differences.length > 20) console.log(`  … and ${differences.length - 20} more`);
  return 1;
}

/** What the audit's summary line says (the fields the demo shows). */
interface AuditLine {
  compared: number;
  matched: number;
  drifted: number;
  settledOnRecheck: number;
  seconds: number;
}

/**
 * Step 11: `--mode=audit` against MongoDB's `$group` while live keeps applying a few more
 * changes: differences in flight settle on its re-checks, so it reports the match.
 */
async function auditWhileChanging(s: Scenario, workload: OrderWorkload): Promise<AuditLine> {
  let finished = false;
  const running = runOrderstats("audit", [
    "--mode=audit",
    `--bad-records-file=${join(DEMO_DIR, "bad-records.jsonl")}`,
    ...stackFlags(s),
  ]).finally(() => finished = true);
  const counts = await workload.apply(200, { until: () => finished });
  const result = await running;
  if (result.code !== 0 && result.code !== 7) {
    throw new Error(`orderstats --mode=audit exited ${result.code}`);
  }
  const line: AuditLine = JSON.parse(result.stdout.trim().split("\n").pop()!);
  detail(`changes made while it ran: ${describeCounts(counts)}`);
  detail(
    `audit: ${grouped(line.compared)} customers compared, ${grouped(line.matched)} match, ` +
      `${line.drifted} drifted (${line.settledOnRecheck} differences in flight settled on ` +
      `re-check), ${line.seconds} s${line.drifted === 0 ? ": match" : ""}`,
  );
  return line;
}

/**
 * Step 6: the bootstrap, while orders keep changing through the driver. Changes made before
 * it captures its change-stream position are in the snapshot and on the topic (live skips
 * them); changes during the scan may or may not be in the snapshot (live applies them once).
 */
async function bootstrap(s: Scenario, workload: OrderWorkload): Promise<void> {
  let finished = false;
  const running = runOrderstats("bootstrap", [
    "--mode=bootstrap",
    `--bad-records-file=${join(DEMO_DIR, "bad-records.jsonl")}`,
    ...stackFlags(s),
  ]).finally(() => finished = true);
  const counts = await workload.apply(Infinity, { until: () => finished });
  const result = await running;
  if (result.code !== 0) throw new Error(`orderstats --mode=bootstrap exited ${result.code}`);
  const summary = JSON.parse(result.stdout.trim().split("\n").pop()!);
  detail(
    `snapshot: ${grouped(summary.documents)} orders, ${grouped(summary.keys)} customers, ` +
      `${summary.badRecords} bad records, ${summary.seconds} s`,
  );
  detail(`changed meanwhile: ${describeCounts(counts)}`);
  detail("(they also reach live mode through the relay; its per-order ledger counts each once)");
}

async function orderstatsOk(label: string, args: string[]): Promise<void> {
  const { code } = await runOrderstats(label, args);
  if (code !== 0) throw new Error(`orderstats ${args[0]} exited ${code}`);
}

async function stopBackground(): Promise<void> {
  for (const child of background.splice(0).reverse()) await child.stop();
}

if (import.meta.main) {
  let options: DemoOptions | "help";
  try {
    options = parseDemoOptions(Deno.args);
  } catch (error) {
    console.error(`demo: ${error instanceof Error ? error.message : error}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (options === "help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  muteKafkajsTimerWarning();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      console.log(`\ndemo: ${signal}: stopping live mode and the relay; the stack stays up`);
      await stopBackground();
      Deno.exit(130);
    });
  }
  try {
    Deno.exit(await demo(options));
  } catch (error) {
    console.error(`\ndemo failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
