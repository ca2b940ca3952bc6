/**
 * Removes what earlier demo runs left on the local stack: MongoDB databases, DynamoDB
 * tables, Kafka topics and consumer groups whose names start with `demo_`. Nothing else is
 * touched (tests use other prefixes).
 *
 * @module
 */
import { DeleteTableCommand, DynamoDBClient, paginateListTables } from "@aws-sdk/client-dynamodb";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { ddbClientConfig, kafkaBrokers, mongoUri } from "../lib/env.ts";
import { DEMO_PREFIX } from "./names.ts";

/** What {@link removeEarlierRuns} deleted, by kind. */
export interface Removed {
  databases: string[];
  tables: string[];
  topics: string[];
  groups: string[];
}

/** Deletes every `demo_*` database, table, topic and consumer group. */
export async function removeEarlierRuns(): Promise<Removed> {
  const [databases, tables, kafka] = await Promise.all([
    dropDatabases(),
    deleteTables(),
    deleteTopicsAndGroups(),
  ]);
  return { databases, tables, ...kafka };
}

const isDemo = (name: string) => name.startsWith(DEMO_PREFIX);

async function dropDatabases(): Promise<string[]> {
  const client = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 10_000 });
  try {
    const { databases } = await client.db("admin").admin().listDatabases({ nameOnly: true });
    const names = databases.map((d) => d.name).filter(isDemo);
    for (const name of names) await client.db(name).dropDatabase();
    return names;
  } finally {
    await client.close();
  }
}

async function deleteTables(): Promise<string[]> {
  const client = new DynamoDBClient(ddbClientConfig());
  try {
    const names: string[] = [];
    for await (const page of paginateListTables({ client }, {})) {
      names.push(...(page.TableNames ?? []).filter(isDemo));
    }
    for (const name of names) await client.send(new DeleteTableCommand({ TableName: name }));
    return names;
  } finally {
    client.destroy();
  }
}

async function deleteTopicsAndGroups(): Promise<{ topics: string[]; groups: string[] }> {
  const kafka = new Kafka({
    clientId: "orderstats-demo",
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups: all } = await admin.listGroups();
    const groups = all.map((g) => g.groupId).filter(isDemo);
    // Best effort: a group with members (a worker still running elsewhere) stays.
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {});
    const topics = (await admin.listTopics()).filter(isDemo);
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    return { topics, groups };
  } finally {
    await admin.disconnect();
  }
}
