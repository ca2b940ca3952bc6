/**
 * Live mode's reads and atomic writes of ledger entries and totals in DynamoDB (the
 * `DynamoStore` methods `readLedger` and `commitLedger`).
 *
 * @module
 */
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  type KeysAndAttributes,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { keys, ledgerItem, readLedger } from "./items.ts";
import {
  busyReason,
  isConditionFailure,
  isTransientDynamoError,
  isTransientTransactionError,
} from "./retriable.ts";
import {
  LedgerBusyError,
  LedgerConflictError,
  type LedgerEntry,
  type LedgerWrite,
  type ReadLedgerOptions,
  updatedTotals,
} from "../store.ts";
import { backoffMs, retry, sleep } from "../../util/retry.ts";
import { forEachConcurrently } from "../../util/pool.ts";

const MAX_GET = 100;
/** DynamoDB's limit of actions in one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;

/** The client and the store's two tables. */
export interface TableAccess {
  client: DynamoDBClient;
  /** The totals table. */
  table: string;
  /** The ledger (and handoff) table. */
  ledgerTable: string;
}

/** Reads the current ledger entries of `records` (strongly consistent, requests in parallel). */
export async function readLedgerEntries(
  { client, ledgerTable }: TableAccess,
  pipeline: string,
  records: readonly string[],
  { concurrency = 8, signal }: ReadLedgerOptions = {},
): Promise<Map<string, LedgerEntry>> {
  const found = new Map<string, LedgerEntry>();
  const slices: string[][] = [];
  for (let i = 0; i < records.length; i += MAX_GET) slices.push(records.slice(i, i + MAX_GET));
  await forEachConcurrently(slices, concurrency, async (slice) => {
    let request: Record<string, KeysAndAttributes> | undefined = {
      [ledgerTable]: {
        Keys: slice.map((r) => ({ pk: { S: keys.ledger(pipeline, r) } })),
        ConsistentRead: true,
      },
    };
    for (let round = 0; request !== undefined && Object.keys(request).length > 0; round++) {
      if (round > 0) await sleep(backoffMs(round), signal);
      const ask: Record<string, KeysAndAttributes> = request;
      const out = await retry(
        () =>
          client.send(new BatchGetItemCommand({ RequestItems: ask }), {
            abortSignal: signal,
          }),
        { isRetriable: isTransientDynamoError, signal },
      );
      for (const item of out.Responses?.[ledgerTable] ?? []) {
        const entry = readLedger(pipeline, item);
        found.set(entry.record, entry);
      }
      request = out.UnprocessedKeys;
    }
  });
  return found;
}

/**
 * Writes ledger entries and the total deltas they imply in one transaction: either all
 * of it becomes durable or none. Each ledger write is conditional on the entry read
 * before, so a concurrent writer makes this throw {@link LedgerConflictError} instead of
 * double counting. Throttling and transaction conflicts are retried a bounded number of
 * times, then thrown as {@link LedgerBusyError}.
 */
export async function commitLedger(
  { client, table, ledgerTable }: TableAccess,
  pipeline: string,
  writes: readonly LedgerWrite[],
  deltas: ReadonlyMap<string, bigint>,
  signal?: AbortSignal,
): Promise<void> {
  const now = new Date().toISOString();
  const items: TransactWriteItem[] = writes.map(({ previous, next }) => ({
    Put: {
      TableName: ledgerTable,
      Item: ledgerItem(pipeline, next),
      ConditionExpression: previous === undefined ? "attribute_not_exists(pk)" : "ver = :old",
      ...(previous === undefined
        ? {}
        : { ExpressionAttributeValues: { ":old": { S: previous.version } } }),
    },
  }));
  for (const key of updatedTotals(deltas)) {
    const delta = deltas.get(key)!;
    items.push({
      Update: {
        TableName: table,
        Key: { pk: { S: keys.total(pipeline, key) } },
        UpdateExpression: "SET #key = :key, pipeline = :p, updated_at = :now ADD #total :d",
        ExpressionAttributeNames: { "#key": "key", "#total": "total" },
        ExpressionAttributeValues: {
          ":key": { S: key },
          ":p": { S: pipeline },
          ":now": { S: now },
          ":d": { N: delta.toString() },
        },
      },
    });
  }
  if (items.length > MAX_TRANSACTION_ITEMS) {
    throw new RangeError(
      `Cannot commit ${items.length} actions in one transaction (max ${MAX_TRANSACTION_ITEMS})`,
    );
  }
  if (items.length === 0) return;
  try {
    await retry(
      () =>
        client.send(new TransactWriteItemsCommand({ TransactItems: items }), {
          abortSignal: signal,
        }),
      { isRetriable: isTransientTransactionError, signal },
    );
  } catch (error) {
    if (isConditionFailure(error)) throw new LedgerConflictError({ cause: error });
    const busy = busyReason(error);
    if (busy !== undefined) throw new LedgerBusyError(busy, { cause: error });
    throw error;
  }
}
