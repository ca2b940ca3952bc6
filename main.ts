/**
 * orderstats: exact per-customer order totals in DynamoDB, from a MongoDB snapshot
 * (bootstrap) and its Kafka CDC stream (live). See README.md and docs/.
 *
 * @module
 */
import { run } from "./src/cli/run.ts";

if (import.meta.main) Deno.exit(await run(Deno.args, Deno.env.toObject()));
