/**
 * The demo's command line: sizes of the sample data and how long to wait.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** What one demo run does. */
export interface DemoOptions {
  /** Orders seeded before the bootstrap. @default {20000} */
  orders: number;
  /** Distinct customers the orders belong to. @default {500} */
  customers: number;
  /** Changes applied once live mode runs. @default {60} */
  changes: number;
  /** Seed of the random workload, so a run can be repeated. @default {42} */
  seed: number;
  /** Seconds to wait for live mode to catch up. @default {180} */
  timeoutSeconds: number;
}

/** `--help` text. */
export const USAGE =
  `Usage: scripts/demo.sh [--orders N] [--customers N] [--changes N] [--seed N] [--timeout S]

Runs orderstats end to end on the local stack: seeds MongoDB, bootstraps DynamoDB totals
from a snapshot while orders keep changing, runs live mode on the Debezium-format CDC topic,
changes more orders, compares the totals with MongoDB's own $group, and ends with an
orderstats --mode=audit run while live keeps going. Exit 0 on "match".

  --orders N     orders seeded before the bootstrap            (default 20000)
  --customers N  customers they belong to                      (default 500)
  --changes N    inserts/updates/reassignments/deletes after live mode starts (default 60)
  --seed N       seed of the random data, to repeat a run      (default 42)
  --timeout S    seconds to wait for live mode to catch up     (default 180)`;

/**
 * Parses the demo's flags.
 *
 * @returns The options, or `"help"` when `--help` was given.
 * @throws {RangeError} Naming the flag whose value is not a non-negative integer.
 */
export function parseDemoOptions(args: string[]): DemoOptions | "help" {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      orders: { type: "string", default: "20000" },
      customers: { type: "string", default: "500" },
      changes: { type: "string", default: "60" },
      seed: { type: "string", default: "42" },
      timeout: { type: "string", default: "180" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const int = (flag: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new RangeError(`--${flag} must be an integer ≥ ${min}: got '${text}'`);
    }
    return n;
  };
  return {
    orders: int("orders", values.orders, 1),
    customers: int("customers", values.customers, 1),
    changes: int("changes", values.changes, 0),
    seed: int("seed", values.seed, 0),
    timeoutSeconds: int("timeout", values.timeout, 1),
  };
}
