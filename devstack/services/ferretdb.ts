/**
 * FerretDB (Mongo wire protocol over SQLite), built from the Go module pinned in
 * devstack/ferretdb/go.mod into .cache/bin/ferretdb.
 *
 * @module
 */
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { HOST, type StackPorts } from "../config.ts";
import { outputOf, runLogged } from "../lib/exec.ts";
import { CACHE_DIR, exists, INSTALL_LOG_DIR, rel, ROOT, STACK_DIR } from "../lib/paths.ts";
import { say, timed } from "../lib/report.ts";
import type { Service } from "../lib/service.ts";
import { ensureTool, TOOLS } from "../lib/tools.ts";

const MODULE = "github.com/FerretDB/FerretDB";
const GO_MOD_DIR = join(ROOT, "devstack/ferretdb");
const BINARY = join(CACHE_DIR, "bin/ferretdb");
const BUILD_DIR = join(CACHE_DIR, "ferretdb");
const HOME = join(STACK_DIR, "ferretdb");
const DATA = join(HOME, "data");

/** The FerretDB server of the local stack. */
export function ferretdbService(ports: StackPorts): Service {
  const scope = "ferretdb";
  return {
    name: scope,
    ports: [{ label: "mongo-wire", port: ports.ferretdb, envName: "FERRETDB_PORT" }],
    marker: DATA,
    readyTimeoutMs: 30_000,
    stopGraceMs: 10_000,

    async install() {
      const version = await pinnedVersion();
      const built = await outputOf(BINARY, ["--version"]);
      if (built?.includes(`version: ${version}`)) {
        say(scope, `${rel(BINARY)} ${version} present`);
        return;
      }
      if (built === undefined && await exists(BINARY)) {
        say(scope, `${rel(BINARY)} does not run (--version fails): rebuilding`);
      }
      await ensureTool(TOOLS.go, scope);
      const logFile = join(INSTALL_LOG_DIR, "ferretdb-install.log");
      await timed(
        scope,
        `go install ${MODULE}/cmd/ferretdb@${version} (log ${rel(logFile)})`,
        () => build(version, logFile),
      );
    },

    async prepare() {
      await Deno.mkdir(DATA, { recursive: true });
    },

    command: () => ({
      cmd: BINARY,
      args: [
        "--handler=sqlite",
        `--sqlite-url=file:${DATA}/`,
        `--state-dir=${HOME}`,
        `--listen-addr=${HOST}:${ports.ferretdb}`,
        "--telemetry=disable",
        "--debug-addr=-",
      ],
      cwd: HOME,
    }),

    probe: () => mongoPing(`mongodb://${HOST}:${ports.ferretdb}/?directConnection=true`),
  };
}

/**
 * Builds FerretDB from the pinned module. Its `build/version` package panics unless the
 * module ships a version.txt (FerretDB's release build generates it), and the module cache
 * is read-only: so build a copy with version.txt through a go.work that replaces the module.
 */
async function build(version: string, logFile: string): Promise<void> {
  await runLogged("go", ["mod", "download", MODULE], { cwd: GO_MOD_DIR, logFile });
  const listed = await outputOf("go", ["list", "-m", "-f", "{{.Dir}}", MODULE], {
    cwd: GO_MOD_DIR,
  });
  if (!listed?.trim()) throw new Error(`cannot locate ${MODULE} in the Go module cache`);
  const source = join(BUILD_DIR, "src");
  await Deno.remove(BUILD_DIR, { recursive: true }).catch(() => {});
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  await runLogged("cp", ["-R", listed.trim(), source], { logFile });
  await runLogged("chmod", ["-R", "u+w", source], { logFile });
  await Deno.writeTextFile(join(source, "build/version/version.txt"), `${version}\n`);
  const goWork = join(BUILD_DIR, "go.work");
  await Deno.writeTextFile(
    goWork,
    `go 1.24\n\nuse ${GO_MOD_DIR}\n\nreplace ${MODULE} ${version} => ./src\n`,
  );
  const gobin = join(BUILD_DIR, "bin");
  await runLogged("go", ["install", `${MODULE}/cmd/ferretdb`], {
    cwd: GO_MOD_DIR,
    logFile,
    env: { GOWORK: goWork, GOBIN: gobin },
  });
  await Deno.mkdir(join(CACHE_DIR, "bin"), { recursive: true });
  // Rename, not write in place: a running ferretdb keeps its own inode.
  await Deno.rename(join(gobin, "ferretdb"), BINARY);
}

/** The FerretDB version required by devstack/ferretdb/go.mod. */
async function pinnedVersion(): Promise<string> {
  const goMod = await Deno.readTextFile(join(GO_MOD_DIR, "go.mod"));
  const match = goMod.match(/github\.com\/FerretDB\/FerretDB (v\d+\.\d+\.\d+)/);
  if (!match) throw new Error(`devstack/ferretdb/go.mod does not require ${MODULE}`);
  return match[1];
}

/**
 * One `ping` through the official driver; throws when it fails.
 *
 * @param uri A mongodb:// URI.
 */
export async function mongoPing(uri: string): Promise<void> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 2_000,
    connectTimeoutMS: 2_000,
    appName: "orderstats-stack-probe",
  });
  try {
    await client.connect();
    await client.db("admin").command({ ping: 1 });
  } finally {
    await client.close();
  }
}
