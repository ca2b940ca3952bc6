/**
 * A segmented bootstrap's rows in the ledger table: one `S#` row per segment (its claim,
 * progress and outcome) and `F#` items holding a finished segment's per-customer totals,
 * which the run finishing the plan sums. The plan itself is part of the handoff row.
 *
 * @module
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { keys, readSegment, segmentItem } from "./items.ts";
import type { SegmentRow, SegmentStore } from "../store.ts";
import { BatchWriter } from "./batch_writer.ts";
import { forEachConcurrently } from "../../util/pool.ts";

/** Characters of totals JSON per `F#` item, well under DynamoDB's 400 KB item limit. */
const CHUNK_CHARS = 300_000;

/** How the segment store reaches the ledger table. */
export interface SegmentTableAccess {
  client: DynamoDBClient;
  ledgerTable: string;
  /** Scans the pipeline's ledger items matching a filter, yielding their keys. */
  scanLedgerKeys(filter: string, values: Record<string, AttributeValue>): AsyncIterable<string>;
  concurrency: number;
}

/** {@link SegmentStore} on DynamoDB; see the module comment. */
export class DynamoSegments implements SegmentStore {
  constructor(private readonly access: SegmentTableAccess) {}

  async read(pipeline: string, count: number): Promise<(SegmentRow | undefined)[]> {
    const rows: (SegmentRow | undefined)[] = new Array(count).fill(undefined);
    const indexes = Array.from({ length: count }, (_, i) => i);
    await forEachConcurrently(indexes, 8, async (i) => {
      const item = await this.#get(keys.segment(pipeline, i));
      rows[i] = item === undefined ? undefined : readSegment(item);
    });
    return rows;
  }

  claim(row: SegmentRow, staleBefore: number): Promise<boolean> {
    return this.#put(
      segmentItem(row),
      "attribute_not_exists(pk) OR plan_id <> :plan OR #status = :failed OR " +
        "(#status = :running AND lease_until < :stale)",
      {
        ":plan": { S: row.planId },
        ":failed": { S: "failed" },
        ":running": { S: "running" },
        ":stale": { N: String(staleBefore) },
      },
    );
  }

  renew(row: SegmentRow, leaseUntil: number, documents: number): Promise<boolean> {
    return this.#update(
      keys.segment(row.pipeline, row.index),
      "SET lease_until = :until, documents = :docs",
      "attempt = :attempt AND #status = :running",
      {
        ":until": { N: String(leaseUntil) },
        ":docs": { N: String(documents) },
        ":attempt": { S: row.attempt },
        ":running": { S: "running" },
      },
    );
  }

  async finish(row: SegmentRow, totals?: ReadonlyMap<string, bigint>): Promise<boolean> {
    const chunks = totals === undefined ? undefined : await this.#putTotals(row, totals);
    const done: SegmentRow = {
      ...row,
      status: totals === undefined ? "failed" : "done",
      leaseUntil: undefined,
      chunks,
      completedAt: new Date().toISOString(),
    };
    return this.#put(segmentItem(done), "attempt = :attempt AND #status = :running", {
      ":attempt": { S: row.attempt },
      ":running": { S: "running" },
    });
  }

  async totals(row: SegmentRow): Promise<Map<string, bigint>> {
    const totals = new Map<string, bigint>();
    for (let chunk = 0; chunk < (row.chunks ?? 0); chunk++) {
      const item = await this.#get(keys.segmentTotals(row.pipeline, row.index, chunk));
      if (item?.attempt?.S !== row.attempt) {
        throw new Error(
          `Segment ${row.index} of pipeline "${row.pipeline}" lacks its totals item ${chunk}`,
        );
      }
      for (const [key, total] of JSON.parse(item.totals.S!) as [string, string][]) {
        totals.set(key, BigInt(total));
      }
    }
    return totals;
  }

  async clearLedger(
    pipeline: string,
    segments: readonly number[],
    signal?: AbortSignal,
  ): Promise<number> {
    const values = Object.fromEntries(segments.map((s, i) => [`:s${i}`, { N: String(s) }]));
    const writer = new BatchWriter(this.access.client, this.access.ledgerTable, {
      concurrency: this.access.concurrency,
      signal,
    });
    const filter = `begins_with(pk, :l) AND seg IN (${Object.keys(values).join(", ")})`;
    const prefix = { ":l": { S: keys.ledger(pipeline, "") } };
    for await (const pk of this.access.scanLedgerKeys(filter, { ...values, ...prefix })) {
      await writer.add({ DeleteRequest: { Key: { pk: { S: pk } } } });
    }
    await writer.flush();
    return writer.written;
  }

  claimFinish(
    pipeline: string,
    planId: string,
    runId: string,
    until: number,
    staleBefore: number,
  ): Promise<boolean> {
    return this.#update(
      keys.handoff(pipeline),
      "SET finisher = :me, finisher_until = :until",
      "run_id = :plan AND #status = :running AND (attribute_not_exists(finisher) OR " +
        "finisher = :me OR finisher_until < :stale)",
      {
        ":me": { S: runId },
        ":until": { N: String(until) },
        ":plan": { S: planId },
        ":running": { S: "running" },
        ":stale": { N: String(staleBefore) },
      },
    );
  }

  markCleared(pipeline: string, planId: string): Promise<boolean> {
    return this.#update(
      keys.handoff(pipeline),
      "SET cleared = :yes",
      "run_id = :plan AND #status = :running",
      { ":yes": { BOOL: true }, ":plan": { S: planId }, ":running": { S: "running" } },
    );
  }

  /** Writes the totals as JSON chunks tagged with the attempt; returns how many. */
  async #putTotals(row: SegmentRow, totals: ReadonlyMap<string, bigint>): Promise<number> {
    const chunks: string[] = [];
    let part: string[] = [];
    let size = 0;
    for (const [key, total] of totals) {
      const entry = JSON.stringify([key, total.toString()]);
      if (size + entry.length > CHUNK_CHARS) {
        chunks.push(`[${part.join(",")}]`);
        [part, size] = [[], 0];
      }
      part.push(entry);
      size += entry.length + 1;
    }
    if (part.length > 0) chunks.push(`[${part.join(",")}]`);
    await forEachConcurrently(
      chunks.map((text, i) => ({ text, i })),
      4,
      ({ text, i }) =>
        this.#put(
          {
            pk: { S: keys.segmentTotals(row.pipeline, row.index, i) },
            pipeline: { S: row.pipeline },
            attempt: { S: row.attempt },
            totals: { S: text },
          },
          "",
          {},
        ).then(() => {}),
    );
    return chunks.length;
  }

  async #get(pk: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await this.access.client.send(
      new GetItemCommand({
        TableName: this.access.ledgerTable,
        Key: { pk: { S: pk } },
        ConsistentRead: true,
      }),
    );
    return out.Item;
  }

  async #put(
    item: Record<string, AttributeValue>,
    condition: string,
    values: Record<string, AttributeValue>,
  ): Promise<boolean> {
    return await conditional(() =>
      this.access.client.send(
        new PutItemCommand({
          TableName: this.access.ledgerTable,
          Item: item,
          ...(condition === "" ? {} : {
            ConditionExpression: condition,
            ExpressionAttributeValues: values,
            ExpressionAttributeNames: { "#status": "status" },
          }),
        }),
      )
    );
  }

  async #update(
    pk: string,
    update: string,
    condition: string,
    values: Record<string, AttributeValue>,
  ): Promise<boolean> {
    return await conditional(() =>
      this.access.client.send(
        new UpdateItemCommand({
          TableName: this.access.ledgerTable,
          Key: { pk: { S: pk } },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: values,
        }),
      )
    );
  }
}

/** Runs a conditional write: false when its condition failed. */
async function conditional(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
