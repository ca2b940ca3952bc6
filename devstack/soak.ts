/**
 * The long fault run (issue 9): one seeded workload over one pipeline drives every fault in
 * a row — bootstrap kill -9 mid-scan and a re-run, live kill -9 `--kills` times, SIGTERM
 * mid-batch, SIGTERM while the group forms after a crash — with a share of CDC records
 * delivered twice. After each fault every customer's total is compared with MongoDB's
 * `$group`; one line of figures per fault. Exits 1 if any fault left a mismatch or a worker
 * exited.
 *
 *   deno task soak --seed=1 --events=200000 --kills=20 [--duplicate-share=0.05] [--ids=2000]
 *
 * `--ids` bounds the `_id` space (half of it inserted before the bootstrap): every write costs
 * the test proxy reads and writes through FerretDB that slow down as the collection grows, so
 * its size, not `--events`, sets the soak's pace.
 *
 * `--events` workload operations are shared among the faults (most go to the kill loop,
 * which spreads its kills over them). Then the infrastructure faults run, each on a stage of
 * its own (their broker and DynamoDB are private instances, lib/infra_faults.ts) with a
 * twentieth of `--events`: the broker stopped for 20 s, DynamoDB frozen for 30 s then restarted, a second
 * and third worker joining and leaving.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  bootstrapKill,
  type Fault,
  formatFigures,
  liveKills,
  openStage,
  runFault,
  sigtermMidBatch,
  sigtermWhileForming,
} from "./lib/faults.ts";
import {
  type InfraRunOptions,
  runBrokerOutage,
  runStoreOutages,
  runWorkersJoinLeave,
} from "./lib/infra_faults.ts";

/** One fault of the soak and its share of the workload's operations. */
export interface SoakStep {
  fault: Fault;
  share: number;
}

/** The soak's faults in order; the first one bootstraps the pipeline. */
export function soakSteps(kills: number): SoakStep[] {
  return [
    { fault: bootstrapKill(2_000), share: 0.1 },
    { fault: liveKills(kills), share: 0.7 },
    { fault: sigtermMidBatch(), share: 0.1 },
    { fault: sigtermWhileForming(), share: 0.1 },
  ];
}

function soakArgs() {
  const { values } = parseArgs({
    args: Deno.args.filter((a) => a !== "--"),
    options: {
      seed: { type: "string", default: "1" },
      events: { type: "string", default: "200000" },
      kills: { type: "string", default: "20" },
      "duplicate-share": { type: "string", default: "0.05" },
      ids: { type: "string", default: "2000" },
    },
    strict: true,
  });
  const number = (name: keyof typeof values, integer = true) => {
    const n = Number(values[name]!.replace(/_/g, ""));
    if (!(n >= 0) || (integer && !Number.isSafeInteger(n))) {
      throw new RangeError(`--${name} must be a non-negative number: got "${values[name]}"`);
    }
    return n;
  };
  return {
    seed: number("seed"),
    events: number("events"),
    kills: number("kills"),
    duplicateShare: number("duplicate-share", false),
    ids: number("ids"),
  };
}

async function main(): Promise<number> {
  const args = soakArgs();
  const idSpace = Math.max(2, args.ids);
  const workload = {
    seed: args.seed,
    customers: Math.max(50, Math.floor(args.events / 100)),
    hotCustomers: 3,
    hotShare: 0.2,
    idSpace,
  };
  console.log(
    `soak: seed ${args.seed}, events ${args.events}, kills ${args.kills}, customers ` +
      `${workload.customers} + ${workload.hotCustomers} hot (${workload.hotShare * 100}% of ` +
      `inserts and moves), ids ${idSpace}, duplicate share ${args.duplicateShare}`,
  );
  const started = performance.now();
  await using stage = await openStage({
    prefix: "soak",
    workload,
    duplicateShare: args.duplicateShare,
    workerFlags: ["--kafka-session-timeout-ms=6000"],
  });
  await stage.workload.seed(idSpace / 2);
  const steps = soakSteps(args.kills);
  let failed = 0;
  for (const { fault, share } of steps) {
    const figures = await runFault(stage, fault, { events: Math.floor(args.events * share) });
    console.log(formatFigures(figures));
    if (figures.totals.mismatched > 0) failed++;
  }
  failed += await infraFaults({
    seed: args.seed,
    orders: 2_000,
    // The workers step needs writes left after its third worker joined (the CI test: 600).
    events: Math.max(600, Math.floor(args.events / 20)),
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `soak: ${failed} of ${steps.length + 3} faults left mismatches (or a worker exited); ${
      seconds.toFixed(0)
    } s, ${stage.workload.stats.ops} operations, ${stage.relay.stats.duplicated} records duplicated`,
  );
  return failed === 0 ? 0 : 1;
}

/** Runs the infrastructure faults, each on its own stage; returns how many left mismatches. */
async function infraFaults(run: InfraRunOptions): Promise<number> {
  let failed = 0;
  for (const fault of [runBrokerOutage, runStoreOutages, runWorkersJoinLeave]) {
    const figures = await fault(run);
    console.log(formatFigures(figures));
    if (figures.totals.mismatched > 0 || figures.workerExited) failed++;
  }
  return failed;
}

if (import.meta.main) Deno.exit(await main());
