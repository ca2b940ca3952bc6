/**
 * The DynamoDB {@link StateStore}: totals in the totals table; the record ledger and the
 * handoff row in the ledger table. Totals have a table of their own so that listing them
 * reads only totals: its cost grows with customers, never with orders. The store owns its
 * client: `close()` (or `await using`) releases it.
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
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { BatchWriter } from "./batch_writer.ts";
import { handoffItem, keys, ledgerItem, readHandoff, readTotal, totalItem } from "./items.ts";
import { commitLedger, MAX_TRANSACTION_ITEMS, readLedgerEntries } from "./ledger.ts";
import { AppliedOffsets } from "./applied_offsets.ts";
import { DynamoSegments } from "./segments.ts";
import { isTransientDynamoError } from "./retriable.ts";
import { RequestHealth } from "./request_health.ts";
import type {
  BulkWriter,
  ClaimCondition,
  Handoff,
  HandoffCondition,
  LedgerEntry,
  LedgerWrite,
  ReadLedgerOptions,
  StateStore,
  TotalRow,
  TotalsPage,
} from "../store.ts";
import { log } from "../../util/log.ts";
import { defaultLedgerTable } from "./tables.ts";
import { OrderstatsError } from "../../util/errors.ts";

/** Thrown when a table orderstats needs does not exist. */
export class MissingTableError extends OrderstatsError {
  constructor(table: string, options?: ErrorOptions) {
    super(
      "BAD_CONFIG",
      `DynamoDB table "${table}" does not exist here: run orderstats --mode=setup first, or ` +
        "check --ddb-table (DDB_TABLE), --ddb-ledger-table (DDB_LEDGER_TABLE), " +
        "--ddb-region (AWS_REGION) and --ddb-endpoint (DDB_ENDPOINT)",
      options,
    );
  }
}

/**
 * Thrown when a pipeline's state is in the old one-table layout (ledger and handoff row
 * inside the totals table). Nothing is migrated behind the operator's back.
 */
export class LegacyLayoutError extends OrderstatsError {
  constructor(pipeline: string, table: string, ledgerTable: string) {
    super(
      "STATE_CONFLICT",
      `Pipeline "${pipeline}" was written by an older orderstats that kept its ledger in the ` +
        `totals table "${table}" (its handoff row is there, none is in ledger table ` +
        `"${ledgerTable}"). To move it: stop the live workers, run --mode=setup (creates ` +
        `"${ledgerTable}"), then --mode=bootstrap --force, which rebuilds the ledger in ` +
        `"${ledgerTable}" and deletes the old ledger items from "${table}".`,
    );
  }
}

/** One Scan request: filter, projection, where to start and how many items to read. */
interface ScanQuery {
  filter: string;
  values: Record<string, AttributeValue>;
  projection?: string;
  start?: Record<string, AttributeValue>;
  limit?: number;
}

/** Options for {@link DynamoStore}. */
export interface DynamoStoreOptions {
  /** The client; the store owns it from now on and destroys it on `close()`. */
  client: DynamoDBClient;
  /** The totals table (`--ddb-table`). */
  table: string;
  /** The ledger and handoff table (`--ddb-ledger-table`). @default `<table>_ledger` */
  ledgerTable?: string;
  /** Parallel write requests. @default 16 */
  concurrency?: number;
}

/** Reads and writes pipelines' orderstats items in the totals and ledger tables. */
export class DynamoStore implements StateStore {
  readonly maxCommitActions = MAX_TRANSACTION_ITEMS;
  /** The totals table (`--ddb-table`). */
  readonly table: string;
  /** The ledger and handoff table (`--ddb-ledger-table`). */
  readonly ledgerTable: string;
  /** See {@link StateStore.segments}. */
  readonly segments: DynamoSegments;
  readonly #client: DynamoDBClient;
  readonly #concurrency: number;
  readonly #health = new RequestHealth();

  constructor({ client, table, ledgerTable, concurrency = 16 }: DynamoStoreOptions) {
    this.#client = client;
    this.#health.watch(client);
    this.table = table;
    this.ledgerTable = ledgerTable ?? defaultLedgerTable(table);
    this.#concurrency = concurrency;
    this.segments = new DynamoSegments({
      client,
      ledgerTable: this.ledgerTable,
      concurrency,
      scanLedgerKeys: (filter, values) => this.#scanLedgerKeys(filter, values),
    });
  }

  /** See {@link StateStore.totalsTable}. */
  get totalsTable(): string {
    return this.table;
  }

  /** Applied-offset watermarks of a consumer group in `table`, over this store's client. */
  appliedOffsets(table: string, group: string): AppliedOffsets {
    return new AppliedOffsets(this.#client, table, group);
  }

  /** Bootstrap's bulk path: ledger entries to the ledger table, totals to the totals table. */
  bulkWriter(pipeline: string, signal?: AbortSignal): BulkWriter {
    const ledger = this.#writer(this.ledgerTable, signal);
    const totals = this.#writer(this.table, signal);
    return {
      putLedger: (entry) => ledger.add({ PutRequest: { Item: ledgerItem(pipeline, entry) } }),
      putTotal: (row, now) => totals.add({ PutRequest: { Item: totalItem(pipeline, row, now) } }),
      flush: async () => {
        await Promise.all([ledger.flush(), totals.flush()]);
      },
    };
  }

  /** See {@link StateStore.readLedger}. */
  readLedger(
    pipeline: string,
    records: readonly string[],
    options?: ReadLedgerOptions,
  ): Promise<Map<string, LedgerEntry>> {
    return readLedgerEntries(this.#access, pipeline, records, options);
  }

  /** See {@link StateStore.commitLedger}. */
  commitLedger(
    pipeline: string,
    writes: readonly LedgerWrite[],
    deltas: ReadonlyMap<string, bigint>,
    signal?: AbortSignal,
  ): Promise<void> {
    return commitLedger(this.#access, pipeline, writes, deltas, signal);
  }

  /** See {@link isTransientDynamoError}. */
  isTransient(error: unknown): boolean {
    return isTransientDynamoError(error);
  }

  /** See {@link RequestHealth.answering}. */
  answering(): boolean {
    return this.#health.answering();
  }

  /** Destroys the client. */
  close(): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  get #access() {
    return { client: this.#client, table: this.table, ledgerTable: this.ledgerTable };
  }

  /** The pipeline's handoff row, or undefined before any bootstrap. */
  readHandoff(pipeline: string): Promise<Handoff | undefined> {
    return this.#readHandoffIn(this.ledgerTable, pipeline);
  }

  /**
   * A handoff row left in the totals table by the old one-table layout, if any: its
   * presence means the ledger in the ledger table is not this pipeline's state.
   */
  readLegacyHandoff(pipeline: string): Promise<Handoff | undefined> {
    return this.#readHandoffIn(this.table, pipeline);
  }

  /** Throws {@link LegacyLayoutError} when the pipeline's state is in the old layout. */
  async assertCurrentLayout(pipeline: string): Promise<void> {
    if (await this.readLegacyHandoff(pipeline) !== undefined) {
      throw new LegacyLayoutError(pipeline, this.table, this.ledgerTable);
    }
  }

  async #readHandoffIn(table: string, pipeline: string): Promise<Handoff | undefined> {
    const out = await this.#call(table, () =>
      this.#client.send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: { S: keys.handoff(pipeline) } },
          ConsistentRead: true,
        }),
      ));
    return out.Item === undefined ? undefined : readHandoff(out.Item);
  }

  /**
   * Writes the handoff row; with `expect`, only if the stored row belongs to that run
   * and/or has that status, so bootstraps and live workers cannot overwrite each other
   * unnoticed. Returns false when the condition failed.
   */
  putHandoff(handoff: Handoff, expect: HandoffCondition = {}): Promise<boolean> {
    const conditions: string[] = [];
    const values: Record<string, AttributeValue> = {};
    if (expect.runId !== undefined) {
      conditions.push("run_id = :run");
      values[":run"] = { S: expect.runId };
    }
    if (expect.status !== undefined) {
      conditions.push("#status = :status");
      values[":status"] = { S: expect.status };
    }
    if (expect.finisher !== undefined) {
      conditions.push("finisher = :finisher");
      values[":finisher"] = { S: expect.finisher };
    }
    return this.#put(handoffItem(handoff), conditions.join(" AND "), values);
  }

  /**
   * Writes `handoff` (a bootstrap's `running` row) only if no other bootstrap holds the
   * pipeline: no row yet, or one left `complete` or `failed`, or `running` with a lease
   * that ended before `staleBefore` (epoch ms; rows without a lease count as ended), or,
   * with `overLive`, `live`. Returns false when the row stood in the way.
   */
  async claimPipeline(
    handoff: Handoff,
    { overLive, staleBefore }: ClaimCondition,
  ): Promise<boolean> {
    const claimable = [
      "attribute_not_exists(pk)",
      "#status IN (:complete, :failed)",
      "(#status = :running AND (attribute_not_exists(lease_until) OR lease_until < :stale))",
      ...(overLive ? ["#status = :live"] : []),
    ];
    return await this.#put(handoffItem(handoff), claimable.join(" OR "), {
      ":complete": { S: "complete" },
      ":failed": { S: "failed" },
      ":running": { S: "running" },
      ":stale": { N: String(staleBefore) },
      ...(overLive ? { ":live": { S: "live" } } : {}),
    });
  }

  /**
   * Extends a bootstrap's claim to `leaseUntil` (epoch ms) if the run still holds it.
   * Returns false when another run took the pipeline over (or the run's row moved on).
   */
  async renewClaim(pipeline: string, runId: string, leaseUntil: number): Promise<boolean> {
    try {
      await this.#call(this.ledgerTable, () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.ledgerTable,
            Key: { pk: { S: keys.handoff(pipeline) } },
            UpdateExpression: "SET lease_until = :until",
            ConditionExpression: "run_id = :run AND #status = :running",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: {
              ":until": { N: String(leaseUntil) },
              ":run": { S: runId },
              ":running": { S: "running" },
            },
          }),
        ));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Puts `item`, under `condition` when there is one; false when the condition failed. */
  async #put(
    item: Record<string, AttributeValue>,
    condition: string,
    values: Record<string, AttributeValue>,
  ): Promise<boolean> {
    try {
      await this.#call(this.ledgerTable, () =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.ledgerTable,
            Item: item,
            ...(condition === "" ? {} : {
              ConditionExpression: condition,
              ExpressionAttributeValues: values,
              ...(condition.includes("#status")
                ? { ExpressionAttributeNames: { "#status": "status" } }
                : {}),
            }),
          }),
        ));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Deletes every total and ledger item of the pipeline (a re-bootstrap starts clean),
   * and what the old one-table layout left in the totals table (ledger items, handoff
   * row, logged). Reads every item of both tables: a rebuild's cost grows with orders anyway.
   * Returns how many items it deleted.
   */
  async clearPipeline(pipeline: string, signal?: AbortSignal): Promise<number> {
    const totals = this.#writer(this.table, signal);
    let legacy = 0;
    for await (
      const item of this.#scan(this.table, {
        filter: "begins_with(pk, :t) OR begins_with(pk, :l) OR pk = :h",
        values: {
          ":t": { S: keys.total(pipeline, "") },
          ":l": { S: keys.ledger(pipeline, "") },
          ":h": { S: keys.handoff(pipeline) },
        },
        projection: "pk",
      })
    ) {
      if (!item.pk.S!.startsWith("T#")) legacy++;
      await totals.add({ DeleteRequest: { Key: { pk: item.pk } } });
    }
    const ledger = this.#writer(this.ledgerTable, signal);
    // Ledger entries, and a segmented bootstrap's segment rows and segment totals.
    const state = "begins_with(pk, :l) OR begins_with(pk, :s) OR begins_with(pk, :f)";
    for await (
      const pk of this.#scanLedgerKeys(state, {
        ":l": { S: keys.ledger(pipeline, "") },
        ":s": { S: `S#${pipeline}#` },
        ":f": { S: `F#${pipeline}#` },
      })
    ) {
      await ledger.add({ DeleteRequest: { Key: { pk: { S: pk } } } });
    }
    await Promise.all([totals.flush(), ledger.flush()]);
    if (legacy > 0) {
      log("warn", "removed the old one-table layout's ledger from the totals table", {
        table: this.table,
        items: legacy,
        ledgerTable: this.ledgerTable,
      });
    }
    return totals.written + ledger.written;
  }

  /** One key's total, read consistently; undefined when the key has none. */
  async total(pipeline: string, key: string): Promise<TotalRow | undefined> {
    const out = await this.#call(this.table, () =>
      this.#client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { pk: { S: keys.total(pipeline, key) } },
          ConsistentRead: true,
        }),
      ));
    return out.Item === undefined ? undefined : readTotal(out.Item);
  }

  /** The pipeline's totals, all of them (unordered), read from the totals table only. */
  async *totals(pipeline: string): AsyncGenerator<TotalRow> {
    let after: string | undefined;
    do {
      const page = await this.totalsPage(pipeline, { limit: 1000, after });
      yield* page.rows;
      after = page.next;
    } while (after !== undefined);
  }

  /**
   * Up to `limit` of the pipeline's totals (consistent reads, totals table only), after
   * the cursor `after` a previous page returned. Pages follow the table's hash order.
   */
  async totalsPage(
    pipeline: string,
    { limit, after }: { limit: number; after?: string },
  ): Promise<TotalsPage> {
    const rows: TotalRow[] = [];
    let start = after === undefined ? undefined : { pk: { S: after } };
    do {
      const page = await this.#scanPage(this.table, {
        filter: "begins_with(pk, :t)",
        values: { ":t": { S: keys.total(pipeline, "") } },
        start,
        limit: limit - rows.length,
      });
      rows.push(...(page.Items ?? []).map(readTotal));
      start = page.LastEvaluatedKey as { pk: { S: string } } | undefined;
    } while (start !== undefined && rows.length < limit);
    return { rows, next: start?.pk.S };
  }

  #writer(table: string, signal?: AbortSignal): BatchWriter {
    return new BatchWriter(this.#client, table, { concurrency: this.#concurrency, signal });
  }

  /** The keys of the ledger table's items matching `filter`. */
  async *#scanLedgerKeys(
    filter: string,
    values: Record<string, AttributeValue>,
  ): AsyncGenerator<string> {
    for await (
      const item of this.#scan(this.ledgerTable, { filter, values, projection: "pk" })
    ) {
      yield item.pk.S!;
    }
  }

  async *#scan(table: string, query: ScanQuery) {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#scanPage(table, { ...query, start });
      yield* page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }

  #scanPage(table: string, query: ScanQuery) {
    return this.#call(table, () =>
      this.#client.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: query.filter,
          ExpressionAttributeValues: query.values,
          ProjectionExpression: query.projection,
          ExclusiveStartKey: query.start,
          Limit: query.limit,
          ConsistentRead: true,
        }),
      ));
  }

  /** Runs a call on `table`, turning a missing table into an error that says to run setup. */
  async #call<T>(table: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new MissingTableError(table, { cause: error });
      }
      throw error;
    }
  }
}
