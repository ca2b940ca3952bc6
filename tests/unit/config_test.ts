import assert from "node:assert/strict";
import { parseConfig } from "../../src/cli/config.ts";
import { ConfigError } from "../../src/util/errors.ts";
import { redactUri } from "../../src/util/redact.ts";

function config(argv: string[], env: Record<string, string> = {}) {
  const parsed = parseConfig(argv, env);
  assert.ok("config" in parsed);
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
  assert.equal(c.ddb.region, undefined, "no forced region: the AWS SDK chain decides");
  assert.equal(c.ddb.dedupTable, undefined);
  assert.equal(c.live.ledgerCacheEntries, 100_000);
  assert.equal(config(["--mode=live", "--ledger-cache-entries=0"]).live.ledgerCacheEntries, 0);
  assert.equal(c.live.partitionsConcurrency, 3);
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

Deno.test("parseConfig() rejects bad values with one line naming the flag and its variable", () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [[], {}, /--mode \(ORDERSTATS_MODE\) is required/],
    [["--mode=run"], {}, /--mode \(ORDERSTATS_MODE\) must be one of/],
    [
      ["--mode=live"],
      { ORDERSTATS_MODE: "x", CDC_FORMAT: "xml" },
      /\(CDC_FORMAT\).*\(set in CDC_FORMAT\)/,
    ],
    [["--mode=live", "--nope"], {}, /Unknown option '--nope'/],
    [["--mode=live", "--kafka-broker=h:1"], {}, /did you mean --kafka-brokers\?/],
    [["--mod=live"], {}, /Unknown option '--mod'; did you mean --mode\?/],
    [["--mode=live", "extra"], {}, /unexpected argument "extra"/],
    [["--mode=live", "--ddb-table=ab"], {}, /--ddb-table \(DDB_TABLE\) must be 3-255/],
    [
      ["--mode=live"],
      { BATCH_SIZE: "ten" },
      /--batch-size \(BATCH_SIZE\) must be a positive integer: got "ten" \(set in BATCH_SIZE\)/,
    ],
    [
      ["--mode=live", "--http-port=70000"],
      {},
      /--http-port \(HTTP_PORT\) must be an integer 1-65535/,
    ],
    [["--mode=live"], { HTTP_PORT: "0" }, /--http-port \(HTTP_PORT\) must be an integer 1-65535/],
    [
      ["--mode=live", "--ledger-cache-entries=-1"],
      {},
      /--ledger-cache-entries \(LEDGER_CACHE_ENTRIES\) must be an integer ≥ 0: got "-1"/,
    ],
    [
      ["--mode=live"],
      { KAFKA_PARTITIONS_CONCURRENCY: "0" },
      /--kafka-partitions-concurrency \(KAFKA_PARTITIONS_CONCURRENCY\) must be a positive integer: got "0"/,
    ],
    [["--mode=live", "--ddb-endpoint=not a url"], {}, /--ddb-endpoint \(DDB_ENDPOINT\) must be/],
    [["--mode=live", "--ddb-endpoint=localhost:8000"], {}, /--ddb-endpoint .* http:\/\/ or https/],
    [["--mode=live"], { DDB_ENDPOINT: "ftp://h" }, /DDB_ENDPOINT\) must be an http/],
    [["--mode=live"], { AWS_ENDPOINT_URL_DYNAMODB: "h:8000" }, /AWS_ENDPOINT_URL_DYNAMODB must/],
    [["--mode=live"], { AWS_ENDPOINT_URL: "127.0.0.1:8000" }, /AWS_ENDPOINT_URL must/],
    [["--mode=live", "--mongo-uri=http://x"], {}, /--mongo-uri \(MONGO_URI\) must start with/],
    [
      ["--mode=live", "--mongo-uri=mongodb://h:99999/"],
      {},
      /--mongo-uri \(MONGO_URI\) is not a valid/,
    ],
    [["--mode=live"], { MONGO_URI: "mongodb://h/?serverSelectionTimeoutMS=soon" }, /\(MONGO_URI\)/],
    [
      ["--mode=live", "--kafka-brokers=,"],
      {},
      /--kafka-brokers \(KAFKA_BROKERS\) must not be empty/,
    ],
    [["--mode=live", "--kafka-brokers=h:1,broker"], {}, /\(KAFKA_BROKERS\) must list host:port/],
    [["--mode=live"], { KAFKA_BROKERS: "h:65536" }, /\(KAFKA_BROKERS\) must list host:port/],
    // 36 GB of cache: more than a third of any V8 heap limit.
    [
      ["--mode=live", "--ledger-cache-entries=100000000"],
      {},
      /--ledger-cache-entries \(LEDGER_CACHE_ENTRIES\) is 100000000: about 34332 MB, more than 33 % of this process's V8 heap limit/,
    ],
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

Deno.test("-h is --help, and --version asks for the version", () => {
  assert.deepEqual(parseConfig(["-h"], {}), { help: true });
  assert.deepEqual(parseConfig(["--version", "--mode=nope"], {}), { version: true });
});

Deno.test("parseConfig() takes AWS_DEFAULT_REGION after AWS_REGION and --ddb-region", () => {
  assert.equal(
    config(["--mode=live"], { AWS_DEFAULT_REGION: "eu-west-3" }).ddb.region,
    "eu-west-3",
  );
  const both = { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-3" };
  assert.equal(config(["--mode=live"], both).ddb.region, "eu-west-1");
  assert.equal(config(["--mode=live", "--ddb-region=ap-south-1"], both).ddb.region, "ap-south-1");
});

Deno.test("parseConfig() leaves an ignored AWS_ENDPOINT_URL_DYNAMODB unchecked, as the SDK does", () => {
  const env = { AWS_ENDPOINT_URL_DYNAMODB: "h:1", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" };
  assert.equal(config(["--mode=live"], env).ddb.endpoint, undefined);
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
      error instanceof ConfigError &&
      /--ddb-ledger-table \(DDB_LEDGER_TABLE\) must be/.test(error.message),
  );
});
