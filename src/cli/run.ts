/**
 * The command line: parse, run the mode, map failures to exit codes. SIGTERM and
 * SIGINT abort one signal that every layer honours.
 *
 * @module
 */
import { parseConfig } from "./config.ts";
import { helpText } from "./help.ts";
import { exitCodeFor } from "./exit_codes.ts";
import * as modes from "./modes.ts";
import { ConfigError, OrderstatsError } from "../util/errors.ts";
import { errorFields, log, setLogLevel } from "../util/log.ts";
import { MongoServerSelectionError } from "mongodb";

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
    return 2;
  }
  if (parsed.help) {
    console.log(helpText());
    return 0;
  }
  const { config } = parsed;
  setLogLevel(config.logLevel);
  const controller = new AbortController();
  const stop = (signal: Deno.Signal) => () => {
    log("info", "stopping", { signal });
    controller.abort(new DOMException(`received ${signal}`, "AbortError"));
  };
  const handlers = (["SIGTERM", "SIGINT"] as const).map((s) => [s, stop(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  try {
    switch (config.mode) {
      case "setup":
        await modes.setup(config);
        break;
      case "bootstrap":
        await modes.bootstrap(config, controller.signal);
        break;
      case "totals":
        await modes.totals(config);
        break;
      case "live":
        await modes.live(config, controller.signal);
        break;
      case "serve":
        await modes.serve(config, controller.signal);
        break;
      case "audit":
        await modes.audit(config, controller.signal);
        break;
    }
    return 0;
  } catch (error) {
    if (controller.signal.aborted) {
      log("warn", "stopped before finishing", errorFields(error));
      return config.mode === "live" || config.mode === "serve" ? 0 : 6;
    }
    const code = error instanceof OrderstatsError
      ? error.code
      : error instanceof MongoServerSelectionError
      ? "UNAVAILABLE"
      : undefined;
    log("error", "failed", errorFields(error));
    return exitCodeFor(code);
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}
