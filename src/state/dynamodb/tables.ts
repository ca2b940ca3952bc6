/**
 * Creates orderstats' tables, idempotently (`--mode=setup`).
 *
 * @module
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { ServiceError } from "../../util/errors.ts";

/**
 * The ledger table's name when `--ddb-ledger-table` is not set: the totals table's name
 * with `_ledger` appended (`order_totals` → `order_totals_ledger`).
 */
export function defaultLedgerTable(totalsTable: string): string {
  return `${totalsTable}_ledger`;
}

/**
 * Creates a table keyed by the string `pk` (on-demand billing) unless it exists, and
 * waits until it is active. Returns whether it was created now.
 */
export async function ensureTable(client: DynamoDBClient, table: string): Promise<boolean> {
  let created = true;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    created = false;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: table });
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  const key = Table?.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`).join(",");
  if (key !== "pk:HASH") {
    throw new ServiceError(
      `Table ${table} exists with key schema ${key}; orderstats needs pk:HASH (S)`,
    );
  }
  return created;
}
