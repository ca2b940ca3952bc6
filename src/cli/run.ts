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
import { errorFields, log, setLogLevel } from "../util/log.ts";

/** Runs orderstats with these arguments and environment; resolves to the exit code. */
export async function run(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<number> {
  let parsed;
  try {
    parsed = parseConfig(argv, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`orderstats: ${error.message}`);
    return exitCodeFor(error);
  }
  if (parsed.help) {
    console.log(helpText());
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
