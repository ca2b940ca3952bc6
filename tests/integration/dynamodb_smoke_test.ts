import assert from "node:assert/strict";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  TransactWriteItemsCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  connectOrExplain,
  ddbClientConfig,
  ddbEndpoint,
  uniqueName,
} from "../../devstack/lib/env.ts";

Deno.test({
  name: "dynamodb: TransactWriteItems writes two items whose int64 totals read back exactly",
  async fn() {
    const client = new DynamoDBClient(ddbClientConfig());
    const table = uniqueName("smoke");
    try {
      await connectOrExplain(
        "DynamoDB Local",
        ddbEndpoint(),
        () => client.send(new ListTablesCommand({ Limit: 1 })),
      );
      await client.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: "customerId", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "customerId", KeyType: "HASH" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
      await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: table });

      const totals = { "c-1": "9223372036854775807", "c-2": "-9223372036854775808" };
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: Object.entries(totals).map(([customerId, total]) => ({
            Put: { TableName: table, Item: { customerId: { S: customerId }, total: { N: total } } },
          })),
        }),
      );

      for (const [customerId, total] of Object.entries(totals)) {
        const { Item } = await client.send(
          new GetItemCommand({
            TableName: table,
            Key: { customerId: { S: customerId } },
            ConsistentRead: true,
          }),
        );
        assert.deepEqual(Item, { customerId: { S: customerId }, total: { N: total } });
      }
    } finally {
      await client.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
      client.destroy();
    }
  },
});
