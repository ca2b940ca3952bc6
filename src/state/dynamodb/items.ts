/**
 * The DynamoDB items of a pipeline's state (docs/data-model.md describes them). Two tables
 * keyed by the string `pk`: the totals table holds only totals (so listing them never reads
 * the ledger), the ledger table holds the ledger and the handoff row (the applied-offset
 * items of the optional dedup table are in applied_offsets.ts). The prefix says what the
 * item is and the pipeline name namespaces it.
 *
 * @module
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { timestampParts } from "../../pipeline/change.ts";
import type {
  Handoff,
  HandoffStatus,
  LedgerEntry,
  SegmentPlan,
  SegmentRow,
  SegmentStatus,
  TotalRow,
} from "../store.ts";

type Item = Record<string, AttributeValue>;

/**
 * Partition keys. `T#` totals (totals table); `L#` ledger entries and `H#` the handoff
 * row (ledger table, or the totals table in the old one-table layout).
 */
export const keys = {
  total: (pipeline: string, key: string) => `T#${pipeline}#${key}`,
  ledger: (pipeline: string, record: string) => `L#${pipeline}#${record}`,
  handoff: (pipeline: string) => `H#${pipeline}`,
  segment: (pipeline: string, index: number) => `S#${pipeline}#${index}`,
  segmentTotals: (pipeline: string, index: number, chunk: number) =>
    `F#${pipeline}#${index}#${chunk}`,
};

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: bigint | number): AttributeValue => ({ N: n.toString() });
const optional = (name: string, value: AttributeValue | undefined): Item =>
  value === undefined ? {} : { [name]: value };

/** Encodes a total. Numbers travel as strings: int64 stays exact. */
export function totalItem(pipeline: string, row: TotalRow, now: string): Item {
  return {
    pk: S(keys.total(pipeline, row.key)),
    pipeline: S(pipeline),
    key: S(row.key),
    total: N(row.total),
    updated_at: S(now),
  };
}

/** Decodes a total item. */
export function readTotal(item: Item): TotalRow {
  return { key: item.key.S!, total: BigInt(item.total.N!), updatedAt: item.updated_at?.S };
}

/** Encodes a ledger entry. */
export function ledgerItem(pipeline: string, entry: LedgerEntry): Item {
  return {
    pk: S(keys.ledger(pipeline, entry.record)),
    pipeline: S(pipeline),
    present: { BOOL: entry.present },
    ver: S(entry.version),
    ...optional("key", entry.key === undefined ? undefined : S(entry.key)),
    ...optional("value", entry.value === undefined ? undefined : N(entry.value)),
    ...optional("seg", entry.segment === undefined ? undefined : N(entry.segment)),
  };
}

/** Decodes a ledger item; `record` is the part of `pk` after the prefix. */
export function readLedger(pipeline: string, item: Item): LedgerEntry {
  const prefix = keys.ledger(pipeline, "");
  return {
    record: item.pk.S!.slice(prefix.length),
    present: item.present.BOOL === true,
    key: item.key?.S,
    value: item.value?.N === undefined ? undefined : BigInt(item.value.N),
    version: item.ver.S!,
  };
}

/** Encodes the handoff row. */
export function handoffItem(h: Handoff): Item {
  const parts = h.clusterTime === undefined ? undefined : timestampParts(h.clusterTime);
  return {
    pk: S(keys.handoff(h.pipeline)),
    pipeline: S(h.pipeline),
    status: S(h.status),
    run_id: S(h.runId),
    documents: N(h.documents),
    keys: N(h.keys),
    bad_records: N(h.badRecords),
    started_at: S(h.startedAt),
    ...optional("totals_table", h.totalsTable === undefined ? undefined : S(h.totalsTable)),
    ...optional("resume_token", h.resumeToken === undefined ? undefined : S(h.resumeToken)),
    ...optional("cluster_time", h.clusterTime === undefined ? undefined : N(h.clusterTime)),
    ...optional("cluster_t", parts === undefined ? undefined : N(parts.t)),
    ...optional("cluster_i", parts === undefined ? undefined : N(parts.i)),
    ...optional("operation_time", h.operationTime === undefined ? undefined : N(h.operationTime)),
    ...optional("lease_until", h.leaseUntil === undefined ? undefined : N(h.leaseUntil)),
    ...optional("topic", h.topic === undefined ? undefined : S(h.topic)),
    ...optional(
      "topic_offsets",
      h.topicOffsets === undefined ? undefined : {
        M: Object.fromEntries([...h.topicOffsets].map(([p, offset]) => [String(p), N(offset)])),
      },
    ),
    ...optional("completed_at", h.completedAt === undefined ? undefined : S(h.completedAt)),
    ...optional("live_since", h.liveSince === undefined ? undefined : S(h.liveSince)),
    ...(h.plan === undefined ? {} : planAttributes(h.plan)),
  };
}

/** A segmented bootstrap's plan, as attributes of the handoff row. */
function planAttributes(plan: SegmentPlan): Item {
  return {
    segments: N(plan.segments),
    boundaries: { L: plan.boundaries.map(S) },
    cleared: { BOOL: plan.cleared },
    ...optional("finisher", plan.finisher === undefined ? undefined : S(plan.finisher)),
    ...optional(
      "finisher_until",
      plan.finisherUntil === undefined ? undefined : N(plan.finisherUntil),
    ),
  };
}

function readPlan(item: Item): SegmentPlan | undefined {
  if (item.segments?.N === undefined) return undefined;
  return {
    segments: Number(item.segments.N),
    boundaries: (item.boundaries?.L ?? []).map((b) => b.S!),
    cleared: item.cleared?.BOOL === true,
    finisher: item.finisher?.S,
    finisherUntil: item.finisher_until?.N === undefined ? undefined : Number(item.finisher_until.N),
  };
}

/** Encodes a segment row. */
export function segmentItem(row: SegmentRow): Item {
  return {
    pk: S(keys.segment(row.pipeline, row.index)),
    pipeline: S(row.pipeline),
    plan_id: S(row.planId),
    segment: N(row.index),
    attempt: S(row.attempt),
    status: S(row.status),
    documents: N(row.documents),
    bad_records: N(row.badRecords),
    started_at: S(row.startedAt),
    ...optional("lease_until", row.leaseUntil === undefined ? undefined : N(row.leaseUntil)),
    ...optional("chunks", row.chunks === undefined ? undefined : N(row.chunks)),
    ...optional("completed_at", row.completedAt === undefined ? undefined : S(row.completedAt)),
  };
}

/** Decodes a segment row. */
export function readSegment(item: Item): SegmentRow {
  const num = (name: string) => item[name]?.N === undefined ? undefined : Number(item[name].N);
  return {
    pipeline: item.pipeline.S!,
    planId: item.plan_id.S!,
    index: Number(item.segment.N),
    attempt: item.attempt.S!,
    status: item.status.S as SegmentStatus,
    leaseUntil: num("lease_until"),
    documents: Number(item.documents.N),
    badRecords: Number(item.bad_records.N),
    chunks: num("chunks"),
    startedAt: item.started_at.S!,
    completedAt: item.completed_at?.S,
  };
}

/** Decodes the handoff row. */
export function readHandoff(item: Item): Handoff {
  const big = (name: string) => item[name]?.N === undefined ? undefined : BigInt(item[name].N!);
  return {
    pipeline: item.pipeline.S!,
    status: item.status.S as HandoffStatus,
    runId: item.run_id.S!,
    totalsTable: item.totals_table?.S,
    resumeToken: item.resume_token?.S,
    clusterTime: big("cluster_time"),
    operationTime: big("operation_time"),
    topic: item.topic?.S,
    topicOffsets: item.topic_offsets?.M === undefined ? undefined : new Map(
      Object.entries(item.topic_offsets.M).map(([p, offset]) => [Number(p), BigInt(offset.N!)]),
    ),
    documents: Number(item.documents.N),
    keys: Number(item.keys.N),
    badRecords: Number(item.bad_records.N),
    leaseUntil: item.lease_until?.N === undefined ? undefined : Number(item.lease_until.N),
    startedAt: item.started_at.S!,
    completedAt: item.completed_at?.S,
    liveSince: item.live_since?.S,
    plan: readPlan(item),
  };
}
