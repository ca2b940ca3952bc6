/** Making sure the toolchains an install step needs are on PATH (apt-get when missing). @module */
import { join } from "node:path";
import { outputOf, runLogged } from "./exec.ts";
import { INSTALL_LOG_DIR } from "./paths.ts";
import { say } from "./report.ts";

/** A command the stack needs and the Debian package that provides it. */
export interface Tool {
  /** Command name, e.g. `java`. */
  command: string;
  /** Arguments that make it print its version and exit 0. */
  versionArgs: string[];
  /** Debian package to install when it is missing. */
  aptPackage: string;
}

/** The tools the stack uses. */
export const TOOLS = {
  java: { command: "java", versionArgs: ["-version"], aptPackage: "openjdk-17-jre-headless" },
  mvn: { command: "mvn", versionArgs: ["-v"], aptPackage: "maven" },
  npm: { command: "npm", versionArgs: ["-v"], aptPackage: "npm" },
  go: { command: "go", versionArgs: ["version"], aptPackage: "golang-go" },
} as const satisfies Record<string, Tool>;

const APT_LOG = join(INSTALL_LOG_DIR, "apt.log");
// apt/dpkg take a lock: installs run one after the other even when services install in parallel.
let aptQueue: Promise<unknown> = Promise.resolve();
let aptUpdated = false;

/**
 * Resolves when `tool` runs; installs its Debian package first when it does not.
 *
 * @throws {Error} When it is missing and apt-get cannot install it.
 */
export function ensureTool(tool: Tool, scope: string): Promise<void> {
  const step = aptQueue.then(async () => {
    if (await outputOf(tool.command, tool.versionArgs) !== undefined) return;
    say(scope, `${tool.command} not found: apt-get install -y ${tool.aptPackage} (log ${APT_LOG})`);
    if (!aptUpdated) {
      await runLogged("apt-get", ["update"], { logFile: APT_LOG });
      aptUpdated = true;
    }
    await runLogged("apt-get", ["install", "-y", "--no-install-recommends", tool.aptPackage], {
      logFile: APT_LOG,
      env: { DEBIAN_FRONTEND: "noninteractive" },
    });
    if (await outputOf(tool.command, tool.versionArgs) === undefined) {
      throw new Error(`${tool.command} still does not run after installing ${tool.aptPackage}`);
    }
  });
  aptQueue = step.catch(() => {});
  return step;
}
