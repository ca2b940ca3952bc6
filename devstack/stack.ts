/**
 * The native local stack: Kafka (KRaft), DynamoDB Local, FerretDB and the Mongo
 * change-stream proxy, installed into .cache/ and run from .stack/ on 127.0.0.1.
 *
 * Usage: scripts/deno.sh run -A devstack/stack.ts up|down|status [--purge]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { type StackPorts, stackPorts } from "./config.ts";
import { start, statusLine, stop } from "./lib/lifecycle.ts";
import { acquireLock } from "./lib/lock.ts";
import { rel, RUN_DIR, STACK_DIR } from "./lib/paths.ts";
import { say, since } from "./lib/report.ts";
import type { Service } from "./lib/service.ts";
import { describe } from "./lib/wait.ts";
import { dynamodbService } from "./services/dynamodb.ts";
import { ferretdbService } from "./services/ferretdb.ts";
import { kafkaService } from "./services/kafka.ts";
import { mongoProxyService } from "./services/mongo_proxy.ts";
import { muteKafkajsTimerWarning } from "../src/sources/kafka/client.ts";

const USAGE = `Usage: deno run -A devstack/stack.ts <command> [service…]

Commands:
  up       install what is missing into .cache/, start the services, wait until ready
  down     stop the services started from this tree (--purge also deletes their data)
  status   print each service, its port and whether it answers (exit 3 if one is down)

Services: kafka, dynamodb, ferretdb, mongo-proxy (default: all; up adds what they need)

Ports (env): KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093 KAFKA_SSL_PORT=9094
             KAFKA_SASL_PORT=9095 DDB_PORT=8000 FERRETDB_PORT=27018 MONGO_PORT=27017
Logs: .stack/logs/<service>.log; install logs: .cache/logs/`;

/** The services in start order. */
export function services(ports: StackPorts): Service[] {
  return [
    kafkaService(ports),
    dynamodbService(ports),
    ferretdbService(ports),
    mongoProxyService(ports),
  ];
}

/** The services named (all when none), plus what they start `after` when `withDeps`. */
function select(all: Service[], names: string[], withDeps: boolean): Service[] {
  if (names.length === 0) return all;
  const byName = new Map(all.map((s) => [s.name, s]));
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length > 0) {
    throw new Error(
      `unknown service ${unknown.join(", ")} (known: ${[...byName.keys()].join(", ")})`,
    );
  }
  const wanted = new Set(names);
  for (const name of names) {
    for (const dep of withDeps ? byName.get(name)!.after ?? [] : []) wanted.add(dep);
  }
  return all.filter((s) => wanted.has(s.name));
}

async function up(all: Service[]): Promise<number> {
  const begin = performance.now();
  say(undefined, `up: ${all.map((s) => s.name).join(", ")}`);
  const failures = new Map<string, unknown>();
  // Each service installs and starts on its own, waiting only for those named in `after`.
  const ready = new Map<string, Promise<boolean>>();
  for (const service of all) {
    ready.set(
      service.name,
      (async () => {
        try {
          await service.install?.();
          for (const dep of service.after ?? []) {
            if (!(await ready.get(dep))) {
              say(service.name, `not started: ${dep} is not up`);
              return false;
            }
          }
          return await start(service);
        } catch (error) {
          failures.set(service.name, error);
          return false;
        }
      })(),
    );
  }
  await Promise.all(ready.values());
  for (const [name, error] of failures) {
    console.error(
      `stack: [${name}] FAILED: ${error instanceof Error ? error.message : describe(error)}`,
    );
  }
  if (failures.size > 0) {
    say(undefined, `up failed after ${since(begin)} (${[...failures.keys()].join(", ")})`);
    return 1;
  }
  say(undefined, `up in ${since(begin)}`);
  return 0;
}

async function down(all: Service[], purge: boolean): Promise<number> {
  const begin = performance.now();
  let failed = false;
  for (const service of [...all].reverse()) {
    try {
      await stop(service);
    } catch (error) {
      failed = true;
      console.error(`stack: [${service.name}] FAILED to stop: ${describe(error)}`);
    }
  }
  if (purge && !failed) {
    for (const service of all) {
      await Deno.remove(join(STACK_DIR, service.name), { recursive: true }).catch(() => {});
    }
    say(undefined, `purged service data under ${rel(STACK_DIR)}/`);
  }
  say(undefined, failed ? "down failed" : `down in ${since(begin)}`);
  return failed ? 1 : 0;
}

async function status(all: Service[]): Promise<number> {
  const lines = await Promise.all(all.map(statusLine));
  for (const { line } of lines) console.log(line);
  return lines.every((l) => l.up) ? 0 : 3;
}

async function main(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { purge: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
  });
  const [command, ...names] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const all = select(services(stackPorts()), names, command === "up");
  if (command === "up" || command === "down") {
    await using _lock = await acquireLock(join(RUN_DIR, "stack.lock"));
    return command === "up" ? await up(all) : await down(all, values.purge);
  }
  switch (command) {
    case "status":
      return await status(all);
    default:
      console.error(`stack: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

if (import.meta.main) {
  muteKafkajsTimerWarning();
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`stack: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
