/**
 * The command line: parse, run the mode, map failures to exit codes. SIGTERM and
 * SIGINT abort one signal that every layer honours.
 *
 * @module
 */
import { type Config, parseConfig } from "./config.ts";
import { helpText } from "./help.ts";
import { exitCodeFor } from "./exit_codes.ts";
import * as modes from "./modes.ts";
import { ConfigError } from "../util/errors.ts";
import { VERSION } from "../util/build.ts";
import { errorFields, log, setLogLevel } from "../util/log.ts";
import { environmentSecrets, registerSecrets, scrub, uriSecrets } from "../util/redact.ts";

/**
 * Every secret in the arguments and environment, found before anything is parsed so that
 * even a configuration error cannot echo one: secret-named variables and flags, and the
 * passwords and secret parameters of any URI-looking value (`--mongo-uri`, `MONGO_URI`, …).
 */
function secretsIn(argv: string[], env: Record<string, string | undefined>): string[] {
  const secrets = environmentSecrets(env);
  const values: string[] = [];
  argv.forEach((arg, i) => {
    const [, name, value] = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg) ?? [];
    const given = value ?? (name === undefined ? arg : argv[i + 1]);
    if (name !== undefined && /password|secret|token/.test(name) && given) secrets.push(given);
    if (value !== undefined || name === undefined) values.push(value ?? arg);
  });
  for (const value of [...values, ...Object.values(env)]) {
    if (value?.includes("://")) secrets.push(...uriSecrets(value));
  }
  return secrets;
}

/** Runs orderstats with these arguments and environment; resolves to the exit code. */
export async function run(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<number> {
  registerSecrets(secretsIn(argv, env));
  let parsed;
  try {
    parsed = parseConfig(argv, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(scrub(`orderstats: ${error.message}`));
    return exitCodeFor(error);
  }
  if ("help" in parsed) {
    console.log(helpText());
    return 0;
  }
  if ("version" in parsed) {
    console.log(`orderstats ${VERSION} (deno ${Deno.version.deno}, v8 ${Deno.version.v8})`);
    return 0;
  }
  setLogLevel(parsed.config.logLevel);
  using stop = stopOnSignals();
  try {
    await runMode(parsed.config, stop.signal);
    return 0;
  } catch (error) {
    const aborted = stop.signal.aborted;
    if (aborted) log("warn", "stopped before finishing", errorFields(error));
    else log("error", "failed", errorFields(error));
    return exitCodeFor(error, { mode: parsed.config.mode, aborted });
  }
}

function runMode(config: Config, signal: AbortSignal): Promise<void> {
  switch (config.mode) {
    case "setup":
      return modes.setup(config);
    case "bootstrap":
      return modes.bootstrap(config, signal);
    case "totals":
      return modes.totals(config);
    case "live":
      return modes.live(config, signal);
    case "serve":
      return modes.serve(config, signal);
    case "audit":
      return modes.audit(config, signal);
  }
}

/** A signal SIGTERM and SIGINT abort, until disposed. */
function stopOnSignals(): Disposable & { signal: AbortSignal } {
  const controller = new AbortController();
  const stop = (signal: Deno.Signal) => () => {
    log("info", "stopping", { signal });
    controller.abort(new DOMException(`received ${signal}`, "AbortError"));
  };
  const handlers = (["SIGTERM", "SIGINT"] as const).map((s) => [s, stop(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    },
  };
}
