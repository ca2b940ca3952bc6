/**
 * Every exit code docs/configuration.md documents, from orderstats run as users run it (a
 * child process) against the real local stack and against closed ports; and MongoDB URI
 * options winning over orderstats' own defaults.
 */
import assert from "node:assert/strict";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { closedPort, ddbClientConfig, ferretUri } from "../../devstack/lib/env.ts";
import {
  mongoCollection,
  orderstats,
  orderstatsOk,
  scenario,
  stackFlags,
} from "../../devstack/lib/scenario.ts";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";

/** A MongoDB URI nobody answers, giving up after `ms` (written in the URI, as users would). */
const deadMongo = (ms: number) =>
  `--mongo-uri=mongodb://127.0.0.1:${closedPort()}/?directConnection=true` +
  `&serverSelectionTimeoutMS=${ms}`;

interface Case {
  why: string;
  args: string[];
  env?: Record<string, string>;
  interruptAfterMs?: number;
  code: number;
  /** What stderr (or stdout for 0) must say. */
  says?: RegExp;
}

Deno.test("every documented exit code, for every kind of cause", async () => {
  const s = scenario("exit");
  const stack = stackFlags(s);
  const ready = scenario("exit-ready");
  await orderstatsOk(["--mode=setup", ...stackFlags(ready)]);
  // A table orderstats did not create, with another key: setup cannot use it.
  const foreign = scenario("exit-foreign");
  const ddb = new DynamoDBClient(ddbClientConfig());
  await ddb.send(
    new CreateTableCommand({
      TableName: foreign.table,
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  ddb.destroy();
  // Bootstrapped empty, then an order nobody relays: the totals drift from $group.
  const drifting = scenario("exit-drift");
  await using mongo = await mongoCollection(drifting);
  await orderstatsOk(["--mode=setup", ...stackFlags(drifting)]);
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(drifting), "--bad-records-file=/dev/null"]);
  await mongo.orders.insertOne({ _id: 1 as never, customer_id: "c1", amount: 10 });

  const cases: Case[] = [
    { why: "help", args: ["--help"], code: 0, says: /Exit codes:/ },
    { why: "-h", args: ["-h"], code: 0, says: /Options for every mode:/ },
    { why: "version", args: ["--version"], code: 0, says: /^orderstats \d+\.\d+\.\d+ \(deno / },
    { why: "setup", args: ["--mode=setup", ...stack], code: 0 },
    {
      why: "a table with another key schema",
      args: ["--mode=setup", ...stackFlags(foreign)],
      code: 1,
      says: /key schema/,
    },
    { why: "no --mode", args: [], code: 2, says: /--mode \(ORDERSTATS_MODE\) is required/ },
    { why: "unknown flag", args: ["--mode=live", "--htp-port=1"], code: 2, says: /--http-port\?/ },
    {
      why: "port out of range",
      args: ["--mode=live", ...stack, "--http-port=65536"],
      code: 2,
      says: /--http-port \(HTTP_PORT\)/,
    },
    {
      why: "bad MongoDB URI",
      args: ["--mode=bootstrap", "--mongo-uri=mongodb://h:99999/"],
      code: 2,
      says: /--mongo-uri \(MONGO_URI\)/,
    },
    {
      why: "MongoDB URI option the driver rejects",
      args: ["--mode=bootstrap"],
      env: { MONGO_URI: "mongodb://h/?serverSelectionTimeoutMS=soon" },
      code: 2,
      says: /--mongo-uri \(MONGO_URI\) is not a valid connection string/,
    },
    {
      why: "endpoint without a scheme",
      args: ["--mode=totals", "--ddb-endpoint=localhost:8000"],
      code: 2,
      says: /--ddb-endpoint \(DDB_ENDPOINT\)/,
    },
    {
      why: "broker without a port",
      args: ["--mode=live"],
      env: { KAFKA_BROKERS: "kafka" },
      code: 2,
      says: /--kafka-brokers \(KAFKA_BROKERS\)/,
    },
    {
      why: "bad integer in the environment",
      args: ["--mode=bootstrap"],
      env: { BATCH_SIZE: "-5" },
      code: 2,
      says: /--batch-size \(BATCH_SIZE\).*set in BATCH_SIZE/,
    },
    {
      // DENO_V8_FLAGS sets the child's heap limit, as --v8-flags or the compile task would.
      why: "ledger cache that outgrows the heap",
      args: ["--mode=live", ...stack, "--ledger-cache-entries=100000"],
      env: { DENO_V8_FLAGS: "--max-old-space-size=64" },
      code: 2,
      says: /--ledger-cache-entries \(LEDGER_CACHE_ENTRIES\) is 100000: .* so at most \d+\./,
    },
    {
      why: "no change streams",
      args: ["--mode=bootstrap", ...stack, `--mongo-uri=${ferretUri()}`],
      code: 3,
      says: /change stream/i,
    },
    {
      why: "no handoff and no waiting",
      args: [
        "--mode=live",
        ...stackFlags(ready),
        "--no-wait-for-handoff",
        `--http-port=${closedPort()}`,
      ],
      code: 4,
    },
    {
      why: "MongoDB unreachable",
      args: ["--mode=bootstrap", ...stack, deadMongo(1_000)],
      code: 5,
    },
    {
      why: "DynamoDB unreachable",
      args: ["--mode=totals", `--ddb-endpoint=http://127.0.0.1:${closedPort()}`],
      code: 5,
      says: /ECONNREFUSED/,
    },
    {
      why: "Kafka unreachable",
      args: [
        "--mode=setup",
        ...stack,
        "--create-topic",
        `--kafka-brokers=127.0.0.1:${closedPort()}`,
      ],
      code: 5,
      says: /ECONNREFUSED/,
    },
    {
      why: "totals drifted from $group",
      args: [
        "--mode=audit",
        ...stackFlags(drifting),
        "--audit-settle-seconds=1",
        "--bad-records-file=/dev/null",
      ],
      code: 7,
    },
    {
      why: "SIGTERM during a bootstrap",
      args: ["--mode=bootstrap", ...stack, deadMongo(20_000)],
      interruptAfterMs: 2_000,
      code: 6,
    },
  ];
  const codes = new Set<number>();
  for (const c of cases) {
    const run = await orderstats(c.args, c.env, c.interruptAfterMs);
    assert.equal(run.code, c.code, `${c.why}: exit ${run.code}\n${run.stderr}`);
    if (c.says) assert.match(c.code === 0 ? run.stdout : run.stderr, c.says, c.why);
    if (c.code === 2) {
      // One line, nothing else.
      assert.equal(run.stderr.trim().split("\n").length, 1, `${c.why}: ${run.stderr}`);
    }
    codes.add(c.code);
  }
  assert.deepEqual([...codes].sort(), Object.keys(EXIT_CODES).map(Number).sort());
});

Deno.test("options written in the MongoDB URI win over orderstats' defaults", async () => {
  const s = scenario("uri-options");
  // orderstats' own server selection timeout is 10 s; the URI asks for 1 s.
  const started = performance.now();
  const run = await orderstats(["--mode=bootstrap", ...stackFlags(s), deadMongo(1_000)]);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(run.code, 5, run.stderr);
  assert.ok(seconds < 6, `took ${seconds.toFixed(1)} s: the URI's timeout was overridden`);
});
