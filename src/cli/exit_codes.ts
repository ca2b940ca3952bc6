/**
 * Process exit codes, documented in `--help` and docs/configuration.md, and the one mapping
 * from a failure to its exit code.
 *
 * @module
 */
import { type ErrorCode, OrderstatsError } from "../util/errors.ts";
import type { Mode } from "./options.ts";

export const EXIT_CODES = {
  0: "success, or live mode stopped cleanly on SIGTERM/SIGINT",
  1: "unexpected failure (see the last log line)",
  2: "bad flags or environment (one line on stderr says which)",
  3: "MongoDB has no change streams (bootstrap; see --allow-no-change-streams)",
  4: "handoff row missing or not complete (live), or bootstrap refused over live state " +
    "or another bootstrap's claim",
  5: "a service (MongoDB, Kafka, DynamoDB) is unreachable",
  6: "interrupted (SIGTERM/SIGINT) before a bootstrap or setup finished: run it again",
  7: "audit found drift: totals that still differ from MongoDB's $group after re-checks",
} as const;

/** How the failed run was going: its mode (once known) and whether a signal stopped it. */
export interface FailureContext {
  mode?: Mode;
  /** SIGTERM/SIGINT aborted the run. */
  aborted?: boolean;
}

/** The exit code of a run that failed with `error`: the one mapping from failures to codes. */
export function exitCodeFor(
  error: unknown,
  { mode, aborted = false }: FailureContext = {},
): number {
  // The long-running modes stop on a signal by design; the others were cut short.
  if (aborted) return mode === "live" || mode === "serve" ? 0 : 6;
  switch (errorCode(error)) {
    case "BAD_CONFIG":
      return 2;
    case "NO_CHANGE_STREAMS":
      return 3;
    case "HANDOFF_MISSING":
    case "STATE_CONFLICT":
      return 4;
    case "UNAVAILABLE":
      return 5;
    case "DRIFT":
      return 7;
    default:
      return 1;
  }
}

/**
 * The project's code of an error; a driver's "cannot reach" (whichever driver, anywhere in
 * the cause chain) is UNAVAILABLE.
 */
function errorCode(error: unknown): ErrorCode | undefined {
  if (error instanceof OrderstatsError) return error.code;
  return unreachable(error) ? "UNAVAILABLE" : undefined;
}

/** Errors of the drivers that mean a service could not be reached. */
const UNREACHABLE_NAMES = new Set([
  "MongoServerSelectionError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSSASLAuthenticationError",
  "TimeoutError",
]);
/** Socket error codes that mean the same (DynamoDB's HTTP client reports these). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/** True when `error` or one of its causes says a service could not be reached. */
function unreachable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 10) return false;
  const code = (error as { code?: unknown }).code;
  if (UNREACHABLE_NAMES.has(error.name) || NETWORK_CODES.has(String(code))) return true;
  const inner = error instanceof AggregateError ? error.errors : [];
  return [error.cause, ...inner].some((cause) => unreachable(cause, depth + 1));
}
