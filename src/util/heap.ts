/**
 * The V8 heap limit of this process: what `--max-old-space-size` (or V8's default for the
 * machine's memory) lets the heap grow to before the process dies out of memory.
 *
 * @module
 */
import { getHeapStatistics } from "node:v8";

/** Bytes the V8 heap may grow to. */
export function heapLimitBytes(): number {
  return getHeapStatistics().heap_size_limit;
}
