import assert from "node:assert/strict";
import { parseConfig } from "../../src/cli/config.ts";
import { ConfigError } from "../../src/util/errors.ts";
import { redactUri } from "../../src/util/redact.ts";

function config(argv: string[], env: Record<string, string> = {}) {
  const parsed = parseConfig(argv, env);
  assert.ok(!parsed.help);
  return parsed.config;
}

Deno.test("parseConfig() applies defaults from the contract", () => {
  const c = config(["--mode=bootstrap"]);
  assert.equal(c.mongo.uri, "mongodb://localhost:27017/?replicaSet=rs0&directConnection=true");
  assert.equal(c.mongo.db, "shop");
  assert.equal(c.mongo.collection, "orders");
  assert.deepEqual(c.kafka.connection.brokers, ["localhost:9092"]);
  assert.equal(c.kafka.topic, "orders.cdc");
  assert.equal(c.kafka.consumerGroup, "order_totals_worker");
  assert.equal(c.ddb.endpoint, undefined);
  assert.equal(c.ddb.table, "order_totals");
  assert.equal(c.ddb.ledgerTable, "order_totals_ledger");
  assert.equal(c.ddb.region, "us-east-1");
  assert.equal(c.ddb.dedupTable, undefined);
});

Deno.test("parseConfig() reads the environment and lets flags win", () => {
  const env = {
    MONGO_URI: "mongodb://m:1/",
    KAFKA_BROKERS: "a:1, b:2",
    DDB_ENDPOINT: "http://localhost:8000",
    AWS_REGION: "eu-west-1",
    DDB_DEDUP_TABLE: "dedup",
    CONSUMER_GROUP: "g",
  };
  const c = config(["--mode=live", "--consumer-group=flag"], env);
  assert.equal(c.mongo.uri, "mongodb://m:1/");
  assert.deepEqual(c.kafka.connection.brokers, ["a:1", "b:2"]);
  assert.equal(c.ddb.endpoint, "http://localhost:8000");
  assert.equal(c.ddb.region, "eu-west-1");
  assert.equal(c.ddb.dedupTable, "dedup");
  assert.equal(c.kafka.consumerGroup, "flag");
});

Deno.test("parseConfig() rejects bad values with one line naming the flag", () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [[], {}, /--mode is required/],
    [["--mode=run"], {}, /--mode must be one of/],
    [["--mode=live", "--nope"], {}, /nope/],
    [["--mode=live", "extra"], {}, /unexpected argument "extra"/],
    [["--mode=live", "--ddb-table=ab"], {}, /--ddb-table must be 3-255/],
    [
      ["--mode=live"],
      { BATCH_SIZE: "ten" },
      /BATCH_SIZE \(environment\) must be a positive integer/,
    ],
    [["--mode=live", "--ddb-endpoint=not a url"], {}, /--ddb-endpoint must be a URL/],
    [["--mode=live", "--mongo-uri=http://x"], {}, /--mongo-uri must start with mongodb/],
    [["--mode=live", "--kafka-brokers=,"], {}, /--kafka-brokers \(flag\) must not be empty/],
  ];
  for (const [argv, env, message] of cases) {
    assert.throws(() => parseConfig(argv, env), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("a bad --mongo-uri error never echoes the URI's password", () => {
  assert.throws(
    () => parseConfig(["--mode=live", "--mongo-uri=http://u:secret@h"], {}),
    (e: Error) => !e.message.includes("secret"),
  );
  assert.equal(redactUri("mongodb://user:p%40ss@h:1/db"), "mongodb://user:***@h:1/db");
  assert.equal(redactUri("mongodb://h:1/db"), "mongodb://h:1/db");
});

Deno.test("--help wins over everything else", () => {
  assert.deepEqual(parseConfig(["--help", "--mode=nope"], {}), { help: true });
});

Deno.test("parseConfig() derives the ledger table from --ddb-table and refuses them equal", () => {
  assert.equal(config(["--mode=live", "--ddb-table=tot"]).ddb.ledgerTable, "tot_ledger");
  assert.equal(
    config(["--mode=live"], { DDB_TABLE: "tot", DDB_LEDGER_TABLE: "led" }).ddb.ledgerTable,
    "led",
  );
  assert.throws(
    () => parseConfig(["--mode=live", "--ddb-table=same", "--ddb-ledger-table=same"], {}),
    (error: Error) =>
      error instanceof ConfigError && /--ddb-ledger-table \(DDB_LEDGER_TABLE\)/.test(error.message),
  );
  assert.throws(
    () => parseConfig(["--mode=live", `--ddb-table=${"t".repeat(250)}`], {}),
    (error: Error) =>
      error instanceof ConfigError && /--ddb-ledger-table must be/.test(error.message),
  );
});
