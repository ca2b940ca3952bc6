/**
 * Segmented bootstraps: `--parallel 4` in one process and `--segment i/3` in three, with
 * orders changing during the scan, mixed `_id` types (numbers, strings, ObjectIds) across
 * the cuts, one segment process killed with kill -9 and re-run, then live: one handoff,
 * written only when the last segment is done, and totals equal to MongoDB's `$group`.
 */
import assert from "node:assert/strict";
import { type Collection, type Document, Long, ObjectId } from "mongodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type CliResult,
  orderstats,
  type Scenario,
  scenario,
  spawnOrderstats,
  stackFlags,
} from "../../devstack/lib/scenario.ts";
import { ddbClientConfig } from "../../devstack/lib/env.ts";
import { applyRandomChanges, rng } from "../../devstack/lib/workload.ts";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";
import {
  assertConverges,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
} from "../support/live.ts";

const LEASE = ["--bootstrap-lease-seconds=3"];
const NUMERIC = 1600;

/** Numbered orders, then string and ObjectId `_id`s, so cuts fall in several BSON types. */
function mixedOrders(random: () => number): Document[] {
  const customer = () => `c${Math.floor(random() * 30)}`;
  const amount = () => Long.fromNumber(Math.floor(random() * 100_000));
  return [
    ...Array.from(
      { length: NUMERIC },
      (_, i) => ({ _id: i, customer_id: customer(), amount: amount() }),
    ),
    ...Array.from({ length: 1200 }, (_, i) => ({
      _id: `s${String(i).padStart(5, "0")}`,
      customer_id: customer(),
      amount: amount(),
    })),
    ...Array.from(
      { length: 200 },
      () => ({ _id: new ObjectId(), customer_id: customer(), amount: amount() }),
    ),
  ];
}

function store(s: Scenario): DynamoStore {
  return new DynamoStore({ client: new DynamoDBClient(ddbClientConfig()), table: s.table });
}

/** The JSON line a bootstrap printed last on stdout. */
function summaryOf(result: CliResult): Record<string, unknown> {
  assert.equal(result.code, 0, result.stderr.slice(-2000));
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
}

function bootstrapArgs(s: Scenario, extra: string[]): string[] {
  return ["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null", ...LEASE, ...extra];
}

function bootstrap(s: Scenario, extra: string[]): Promise<CliResult> {
  return orderstats(bootstrapArgs(s, extra));
}

function changes(orders: Collection, random: () => number, steps: number) {
  return applyRandomChanges(orders, steps, { idSpace: NUMERIC + 200, customers: 30, random });
}

Deno.test({
  name: "--parallel 4 with writes during the scan, then live: one handoff, exact totals",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const random = rng(11);
    await using scene = await relayedScenario("segpar");
    const { s, orders } = scene;
    await orders.insertMany(mixedOrders(random));
    const writes = changes(orders, random, 80);
    try {
      await parallelThenLive(s, orders, writes);
    } finally {
      await writes.catch(() => {});
    }
  },
});

async function parallelThenLive(s: Scenario, orders: Collection, writes: Promise<unknown>) {
  const summary = summaryOf(await bootstrap(s, ["--parallel=4"]));
  assert.deepEqual([summary.event, summary.handoff, summary.segments], [
    "bootstrap_complete",
    true,
    4,
  ]);
  await using state = store(s);
  const handoff = (await state.readHandoff(s.pipeline))!;
  assert.equal(handoff.status, "complete");
  assert.equal(handoff.plan?.boundaries.length, 3);
  assert.ok(
    handoff.plan!.boundaries.some((b) => b.startsWith('"s')),
    "a cut among the string _ids",
  );
  const worker = startWorker(s);
  try {
    await writes;
    await assertConverges(s, orders);
  } finally {
    await worker.stop();
  }
}

Deno.test({
  name: "--segment i/3 in three processes, one killed with kill -9 and re-run: one handoff, exact",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const random = rng(12);
    await using scene = await relayedScenario("segkill");
    const { s, orders } = scene;
    await orders.insertMany(mixedOrders(random));
    await using state = store(s);
    const writes = changes(orders, random, 80);
    try {
      await killedAndRerun(s, orders, state, writes);
    } finally {
      await writes.catch(() => {});
    }
  },
});

async function killedAndRerun(
  s: Scenario,
  orders: Collection,
  state: DynamoStore,
  writes: Promise<unknown>,
) {
  // Segment 1 reads and writes slowly, so it is still scanning when killed.
  const slow = ["--write-concurrency=1", "--batch-size=5"];
  const victim = spawnOrderstats(bootstrapArgs(s, ["--segment=1/3", ...slow]));
  const others = [bootstrap(s, ["--segment=0/3"]), bootstrap(s, ["--segment=2/3"])];
  await scanning(state, s, 1);
  victim.kill("SIGKILL");
  // While the plan is held: another number of segments is refused.
  const mismatch = bootstrap(s, ["--segment=0/4"]);
  assert.equal((await victim.output()).code, 137, "segment 1 was killed");
  const done = (await Promise.all(others)).map(summaryOf);
  assert.deepEqual(done.map((d) => [d.event, d.handoff]), [
    ["bootstrap_segments_done", false],
    ["bootstrap_segments_done", false],
  ]);
  const plan = await state.readHandoff(s.pipeline);
  assert.equal(plan?.status, "running", "no handoff before every segment is done");
  const refused = await mismatch;
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /being bootstrapped in 3 segments .*not 4/);

  const worker = startWorker(s);
  try {
    const rerun = await bootstrap(s, ["--segment=1/3"]);
    const summary = summaryOf(rerun);
    assert.deepEqual([summary.event, summary.handoff, summary.runId], [
      "bootstrap_complete",
      true,
      plan?.runId,
    ]);
    assert.match(
      rerun.stderr,
      /deleted a dead attempt's ledger entries","segment":1,"items":[1-9]/,
    );
    await writes;
    await assertConverges(s, orders);
  } finally {
    await worker.stop();
  }
}

/** Waits until segment `index`'s row shows its scan in progress (documents counted). */
async function scanning(state: DynamoStore, s: Scenario, index: number): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const row = (await state.segments.read(s.pipeline, 3))[index];
    if (row?.status === "running" && row.documents > 0) return;
    assert.notEqual(row?.status, "done", "segment 1 finished before it could be killed");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("segment 1 never started scanning");
}

Deno.test("bad --segment or --parallel values exit 2 naming the flag, before any connection", async () => {
  const s = scenario("segcfg");
  const cases: [string[], Record<string, string> | undefined, RegExp][] = [
    [["--segment=1-3"], undefined, /--segment \(BOOTSTRAP_SEGMENT\) must be i\/N .*got "1-3"/],
    [["--segment=3/3"], undefined, /must be i\/N with 0 ≤ i < N .*got "3\/3"/],
    [[], { BOOTSTRAP_SEGMENT: "2/0" }, /--segment \(BOOTSTRAP_SEGMENT\) must be i\/N/],
    [["--segment=0/2", "--parallel=2"], undefined, /scans one segment per process/],
    [
      ["--parallel=0"],
      undefined,
      /--parallel \(BOOTSTRAP_PARALLEL\) must be a positive integer: got "0"/,
    ],
  ];
  for (const [args, env, message] of cases) {
    const result = await orderstats(["--mode=bootstrap", ...stackFlags(s), ...args], env);
    assert.equal(result.code, 2, `${args.join(" ")} ${JSON.stringify(env)}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});
