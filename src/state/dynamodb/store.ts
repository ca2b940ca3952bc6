/**
 * The DynamoDB state of one pipeline: totals, the record ledger and the handoff row.
 *
 * @module
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { BatchWriter } from "./batch_writer.ts";
import {
  type Handoff,
  handoffItem,
  keys,
  type LedgerEntry,
  ledgerItem,
  readHandoff,
  readTotal,
  totalItem,
  type TotalRow,
} from "./items.ts";
import { OrderstatsError } from "../../util/errors.ts";

/** Thrown when a table orderstats needs does not exist. */
export class MissingTableError extends OrderstatsError {
  constructor(table: string, options?: ErrorOptions) {
    super(
      "BAD_CONFIG",
      `DynamoDB table "${table}" does not exist; run orderstats --mode=setup first`,
      options,
    );
  }
}

/** Options for {@link DynamoStore}. */
export interface DynamoStoreOptions {
  client: DynamoDBClient;
  table: string;
  /** Parallel write requests. @default 16 */
  concurrency?: number;
}

/** Reads and writes one table's orderstats items. */
export class DynamoStore {
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly concurrency: number;

  constructor({ client, table, concurrency = 16 }: DynamoStoreOptions) {
    this.client = client;
    this.table = table;
    this.concurrency = concurrency;
  }

  /** A batch writer for this table (bootstrap's bulk path). */
  writer(signal?: AbortSignal): BatchWriter {
    return new BatchWriter(this.client, this.table, { concurrency: this.concurrency, signal });
  }

  /** The pipeline's handoff row, or undefined before any bootstrap. */
  async readHandoff(pipeline: string): Promise<Handoff | undefined> {
    const out = await this.#call(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { pk: { S: keys.handoff(pipeline) } },
          ConsistentRead: true,
        }),
      )
    );
    return out.Item === undefined ? undefined : readHandoff(out.Item);
  }

  /**
   * Writes the handoff row. With `expectRunId`, only if the stored row belongs to that
   * run (or, for `null`, if there is none or it is not live): two bootstraps or a
   * bootstrap and a live worker cannot overwrite each other unnoticed.
   * Returns false when the condition failed.
   */
  async putHandoff(handoff: Handoff, expect: { runId?: string; notLive?: boolean } = {}) {
    const conditions: string[] = [];
    const values: Record<string, { S: string }> = {};
    if (expect.runId !== undefined) {
      conditions.push("run_id = :run");
      values[":run"] = { S: expect.runId };
    }
    if (expect.notLive) {
      conditions.push("(attribute_not_exists(pk) OR #status <> :live)");
      values[":live"] = { S: "live" };
    }
    try {
      await this.#call(() =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: handoffItem(handoff),
            ...(conditions.length > 0
              ? {
                ConditionExpression: conditions.join(" AND "),
                ExpressionAttributeValues: values,
                ...(expect.notLive ? { ExpressionAttributeNames: { "#status": "status" } } : {}),
              }
              : {}),
          }),
        )
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Queues a ledger entry on a batch writer. */
  putLedger(writer: BatchWriter, pipeline: string, entry: LedgerEntry): Promise<void> {
    return writer.add({ PutRequest: { Item: ledgerItem(pipeline, entry) } });
  }

  /** Queues an absolute total on a batch writer. */
  putTotal(writer: BatchWriter, pipeline: string, row: TotalRow, now: string): Promise<void> {
    return writer.add({ PutRequest: { Item: totalItem(pipeline, row, now) } });
  }

  /**
   * Deletes every total and ledger item of the pipeline (a re-bootstrap starts clean).
   * Returns how many items were deleted.
   */
  async clearPipeline(pipeline: string, signal?: AbortSignal): Promise<number> {
    const writer = this.writer(signal);
    const [totals, ledger] = keys.rebuiltPrefixes(pipeline);
    for await (
      const item of this.#scan("begins_with(pk, :t) OR begins_with(pk, :l)", {
        ":t": { S: totals },
        ":l": { S: ledger },
      }, "pk")
    ) {
      await writer.add({ DeleteRequest: { Key: { pk: item.pk } } });
    }
    await writer.flush();
    return writer.written;
  }

  /** The pipeline's totals: one key's, or all (unordered). */
  async *totals(pipeline: string, key?: string): AsyncGenerator<TotalRow> {
    if (key !== undefined) {
      const out = await this.#call(() =>
        this.client.send(
          new GetItemCommand({
            TableName: this.table,
            Key: { pk: { S: keys.total(pipeline, key) } },
            ConsistentRead: true,
          }),
        )
      );
      if (out.Item) yield readTotal(out.Item);
      return;
    }
    const prefix = keys.total(pipeline, "");
    for await (const item of this.#scan("begins_with(pk, :t)", { ":t": { S: prefix } })) {
      yield readTotal(item);
    }
  }

  async *#scan(
    filter: string,
    values: Record<string, { S: string }>,
    projection?: string,
  ) {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#call(() =>
        this.client.send(
          new ScanCommand({
            TableName: this.table,
            FilterExpression: filter,
            ExpressionAttributeValues: values,
            ProjectionExpression: projection,
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        )
      );
      yield* page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }

  /** Runs a call, turning a missing table into an error that says to run setup. */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new MissingTableError(this.table, { cause: error });
      }
      throw error;
    }
  }
}
