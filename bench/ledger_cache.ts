/**
 * Memory of the live worker's ledger cache (`--ledger-cache-entries`): fills the real
 * `LedgerCache` with entries shaped like live's (ObjectId orders, `c<n>` customers, int64
 * amounts, change versions) and prints the V8 heap it holds after a full GC, per entry and
 * at each size. No services needed; passes or fails nothing. Figures: docs/benchmarks.md.
 *
 *   scripts/deno.sh task bench:ledger-cache
 *   scripts/deno.sh task bench:ledger-cache -- --entries=1000,10000,100000,1000000
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ObjectId } from "mongodb";
import { LedgerCache } from "../src/runtimes/live/ledger_cache.ts";
import { formatVersion } from "../src/state/version.ts";
import { orderKey } from "../src/pipeline/bson_values.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc (the deno task does)");

const { values } = parseArgs({
  args: Deno.args.filter((a) => a !== "--"),
  options: { entries: { type: "string", default: "10000,100000" } },
});
const sizes = values.entries.split(",").map(Number);
if (sizes.some((n) => !Number.isSafeInteger(n) || n <= 0)) {
  throw new Error(`--entries: ${values.entries} is not a comma list of positive integers`);
}

/** Heap in use after a full collection, in bytes. */
function settledHeap(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

const clusterTime = 7716026274749088045n;
console.log("entries      heap held (MB)  bytes per entry");
for (const size of sizes) {
  const base = settledHeap();
  const cache = new LedgerCache(size);
  for (let i = 0; i < size; i++) {
    const version = formatVersion({
      kind: "change",
      clusterTime: clusterTime + BigInt(i),
      offsets: new Map([[i % 3, BigInt(i)]]),
    });
    cache.remember(i % 3, {
      record: orderKey(new ObjectId(), "bench"),
      present: true,
      key: `c${i % 100_000}`,
      value: BigInt(1_000 + i),
      version,
    });
  }
  const held = settledHeap() - base;
  console.log(
    `${String(cache.size).padEnd(12)} ${(held / 2 ** 20).toFixed(1).padStart(14)}  ${
      (held / size).toFixed(0).padStart(15)
    }`,
  );
}
