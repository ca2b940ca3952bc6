/**
 * Private instances of the stack's Kafka broker and DynamoDB Local, on their own free ports
 * and folders under `.stack/private-<name>/`, for fault tests that stop, restart or freeze
 * them: the shared stack, which other tests run on at the same time, is never touched.
 *
 * @module
 */
import { join } from "node:path";
import { HOST, type StackPorts, stackPorts } from "../config.ts";
import { dynamodbService } from "../services/dynamodb.ts";
import { kafkaService } from "../services/kafka.ts";
import { pidOf, start, stop } from "./lifecycle.ts";
import { STACK_DIR } from "./paths.ts";
import { signalGroup } from "./process.ts";
import { say } from "./report.ts";
import type { Service } from "./service.ts";

/** A private service: started by its factory, removed with its folder when disposed. */
export class PrivateService implements AsyncDisposable {
  readonly #service: Service;
  readonly #home: string;
  #frozen = false;

  constructor(service: Service, home: string) {
    this.#service = service;
    this.#home = home;
  }

  /** Its name (log file `.stack/logs/<name>.log`). */
  get name(): string {
    return this.#service.name;
  }

  /** The port clients use. */
  get port(): number {
    return this.#service.ports[0].port;
  }

  /** Starts it (again) and waits until its probe passes. */
  async start(): Promise<void> {
    await start(this.#service);
  }

  /** Stops it (SIGTERM, SIGKILL after its grace period) and waits until its ports are free. */
  async stop(): Promise<void> {
    await this.thaw();
    await stop(this.#service);
  }

  /** Freezes its process group (SIGSTOP): connections stay open, nothing answers. */
  async freeze(): Promise<void> {
    signalGroup(await this.#pid(), "SIGSTOP");
    this.#frozen = true;
  }

  /** Lets a frozen service run again (SIGCONT); a no-op when it is not frozen. */
  async thaw(): Promise<void> {
    if (!this.#frozen) return;
    this.#frozen = false;
    const pid = await pidOf(this.#service);
    if (pid !== undefined) signalGroup(pid, "SIGCONT");
  }

  async #pid(): Promise<number> {
    const pid = await pidOf(this.#service);
    if (pid === undefined) throw new Error(`${this.name} is not running`);
    return pid;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.#home, { recursive: true }).catch(() => {});
  }
}

/** A free TCP port on the loopback address (free when asked; nothing holds it). */
function freePort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The private folder of `name`, emptied first (a previous run may have left it). */
async function freshHome(name: string): Promise<string> {
  const home = join(STACK_DIR, name);
  await Deno.remove(home, { recursive: true }).catch(() => {});
  await Deno.mkdir(home, { recursive: true });
  return home;
}

/** Starts `service`, after stopping what a previous run of the same name left running. */
async function launch(service: Service, home: string): Promise<PrivateService> {
  await stop(service);
  const instance = new PrivateService(service, home);
  say(service.name, `private instance in ${home}`);
  await instance.start();
  return instance;
}

/** A private single-node KRaft broker (all four listeners on fresh ports); `label` names it. */
export async function privateKafka(label: string): Promise<PrivateService> {
  const name = `private-kafka-${label}`;
  const home = await freshHome(name);
  const ports: StackPorts = {
    ...stackPorts(),
    kafka: freePort(),
    kafkaController: freePort(),
    kafkaSsl: freePort(),
    kafkaSasl: freePort(),
  };
  return await launch(kafkaService(ports, { name, home }), home);
}

/** A private DynamoDB Local keeping its database on disk, so a restart keeps the tables. */
export async function privateDynamodb(label: string): Promise<PrivateService> {
  const name = `private-dynamodb-${label}`;
  const home = await freshHome(name);
  const ports: StackPorts = { ...stackPorts(), dynamodb: freePort() };
  return await launch(dynamodbService(ports, { name, home, onDisk: true }), home);
}

/**
 * Points devstack/lib/env.ts (and so `stackFlags`, `storedTotals`, the relay) at private
 * instances until disposed, by setting `KAFKA_PORT` or `DDB_PORT` in this process.
 */
export function pointStackAt(
  { kafka, dynamodb }: { kafka?: PrivateService; dynamodb?: PrivateService },
): Disposable {
  const saved = new Map<string, string | undefined>();
  const set = (variable: string, port: number) => {
    saved.set(variable, Deno.env.get(variable));
    Deno.env.set(variable, String(port));
  };
  if (kafka) set("KAFKA_PORT", kafka.port);
  if (dynamodb) set("DDB_PORT", dynamodb.port);
  return {
    [Symbol.dispose]() {
      for (const [variable, value] of saved) {
        if (value === undefined) Deno.env.delete(variable);
        else Deno.env.set(variable, value);
      }
    },
  };
}
