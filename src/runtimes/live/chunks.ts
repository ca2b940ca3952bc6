/**
 * Packs a batch's ledger writes into commits of at most the store's `maxCommitActions` (100
 * for DynamoDB's TransactWriteItems): each record's ledger write travels with the total
 * updates it implies, a key touched by several records in one commit costs one update
 * (deltas summed), and writes are grouped by key so a busy customer spreads over as few
 * commits as possible.
 *
 * @module
 */
import type { LedgerWrite } from "../../state/store.ts";
import type { Group } from "../../pipeline/monoid.ts";
import { addDeltas } from "./apply.ts";

/** One transaction's worth of work. */
export interface Chunk {
  writes: LedgerWrite[];
  deltas: Map<string, bigint>;
}

/** Splits writes into chunks that each fit one transaction of `limit` actions. */
export function packChunks(
  writes: readonly LedgerWrite[],
  group: Group<bigint>,
  limit: number,
): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Chunk = { writes: [], deltas: new Map() };
  // Writes of one customer side by side share its total update in fewer transactions.
  const byKey = [...writes].sort((a, b) => compare(primaryKey(a), primaryKey(b)));
  for (const write of byKey) {
    const own = new Map<string, bigint>();
    addDeltas(own, write.previous, write.next, group);
    const newKeys = [...own.keys()].filter((k) => !current.deltas.has(k)).length;
    if (
      current.writes.length > 0 && current.writes.length + current.deltas.size + 1 + newKeys > limit
    ) {
      chunks.push(current);
      current = { writes: [], deltas: new Map() };
    }
    current.writes.push(write);
    addDeltas(current.deltas, write.previous, write.next, group);
  }
  if (current.writes.length > 0) chunks.push(current);
  return chunks;
}

function primaryKey(write: LedgerWrite): string {
  return write.next.key ?? write.previous?.key ?? "";
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
