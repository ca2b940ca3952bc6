/**
 * DEV/TEST TOOL — not part of orderstats. Stands in for a Debezium MongoDB connector on
 * machines without Kafka Connect: watches one collection's change stream and produces each
 * change to Kafka as the Debezium MongoDB connector would (JSON converter; key
 * `{"id": "<extended JSON of _id>"}`, envelope with `after` as strict extended JSON, a
 * tombstone after each delete, `--schemas` for the `{schema, payload}` wrapper; `--flatten` for
 * what the ExtractNewDocumentState SMT makes of it, deletes as tombstones only).
 *
 * Usage:
 *   scripts/deno.sh run -A devstack/debezium-relay.ts --mongo-uri mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true \
 *     --db shop --collection orders --brokers 127.0.0.1:9092 --topic orders.cdc \
 *     [--state-file .stack/relay.json] [--from-now | --resume-after-token '{"_data": "82…"}'] \
 *     [--schemas | --flatten] [--version 2.7.0.Final] [--name shop]
 *
 * With `--state-file`, the last produced event's resume token is saved after each send and a
 * restarted relay resumes after it (at-least-once; duplicates possible, no gaps). SIGTERM or
 * SIGINT stops it cleanly.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runRelay } from "./debezium/relay.ts";
import { parseResumeToken } from "./debezium/resume_state.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "mongo-uri": {
      type: "string",
      default: "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true",
    },
    db: { type: "string", default: "shop" },
    collection: { type: "string", default: "orders" },
    brokers: { type: "string", default: "127.0.0.1:9092" },
    topic: { type: "string", default: "orders.cdc" },
    name: { type: "string" },
    version: { type: "string", default: "2.7.0.Final" },
    schemas: { type: "boolean", default: false },
    flatten: { type: "boolean", default: false },
    "state-file": { type: "string" },
    "from-now": { type: "boolean", default: false },
    "resume-after-token": { type: "string" },
  },
});

if (values["from-now"] && values["resume-after-token"]) {
  console.error("debezium-relay: --from-now and --resume-after-token exclude each other");
  Deno.exit(2);
}

const controller = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => controller.abort(new Error(`received ${signal}`)));
}

await runRelay({
  mongoUri: values["mongo-uri"],
  db: values.db,
  collection: values.collection,
  brokers: values.brokers.split(",").map((b) => b.trim()).filter(Boolean),
  topic: values.topic,
  name: values.name,
  version: values.version,
  schemas: values.schemas,
  flatten: values.flatten,
  stateFile: values["state-file"],
  fromNow: values["from-now"],
  resumeAfter: values["resume-after-token"]
    ? parseResumeToken(values["resume-after-token"])
    : undefined,
}, controller.signal);
Deno.exit(0);
