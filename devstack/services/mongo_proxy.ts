/**
 * The change-stream proxy (devstack/mongo-cdc-proxy/, written separately) in front of
 * FerretDB: the project's Mongo endpoint, a one-member replica set `rs0`.
 *
 * @module
 */
import { join } from "node:path";
import { HOST, type StackPorts } from "../config.ts";
import { exists, rel, ROOT } from "../lib/paths.ts";
import type { Service } from "../lib/service.ts";
import { mongoPing } from "./ferretdb.ts";

const ENTRY = join(ROOT, "devstack/mongo-cdc-proxy/main.ts");

/** The Mongo change-stream proxy of the local stack. */
export function mongoProxyService(ports: StackPorts): Service {
  return {
    name: "mongo-proxy",
    ports: [{ label: "mongo", port: ports.mongo, envName: "MONGO_PORT" }],
    after: ["ferretdb"],
    marker: ENTRY,
    readyTimeoutMs: 60_000,
    stopGraceMs: 10_000,

    async skipReason() {
      return await exists(ENTRY) ? undefined : `not built yet (${rel(ENTRY)} does not exist)`;
    },

    command: () => ({
      cmd: join(ROOT, "scripts/deno.sh"),
      args: [
        "run",
        "-A",
        ENTRY,
        "--listen",
        `${HOST}:${ports.mongo}`,
        "--upstream",
        `${HOST}:${ports.ferretdb}`,
      ],
      // The repository root, so deno finds deno.json and its import map.
      cwd: ROOT,
    }),

    probe: () =>
      mongoPing(`mongodb://${HOST}:${ports.mongo}/?replicaSet=rs0&directConnection=true`),
  };
}
