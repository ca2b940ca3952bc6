/** The shared `StateStore` suite against `DynamoStore` on DynamoDB Local, fresh tables each. */
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ddbClientConfig, uniqueName } from "../../devstack/lib/env.ts";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";
import { defaultLedgerTable, ensureTable } from "../../src/state/dynamodb/tables.ts";
import { stateStoreCases } from "../unit/state_store_cases.ts";

stateStoreCases("DynamoStore", async () => {
  const table = uniqueName("store");
  const tables = [table, defaultLedgerTable(table)];
  const admin = new DynamoDBClient(ddbClientConfig());
  for (const name of tables) await ensureTable(admin, name);
  const store = new DynamoStore({ client: new DynamoDBClient(ddbClientConfig()), table });
  return {
    store,
    async [Symbol.asyncDispose]() {
      await store.close();
      for (const name of tables) await admin.send(new DeleteTableCommand({ TableName: name }));
      admin.destroy();
    },
  };
});
