/**
 * Process exit codes, documented in `--help` and docs/configuration.md.
 *
 * @module
 */
import type { ErrorCode } from "../util/errors.ts";

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

/** Maps an error code to the process exit code. */
export function exitCodeFor(code: ErrorCode | undefined): number {
  switch (code) {
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
