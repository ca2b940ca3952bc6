/**
 * The one place that decides which DynamoDB errors a retry may cure: throttling, server-side
 * and connection errors for any call, and for a transaction also refusals that pass with
 * time (a conflicting transaction, throttling) — never a failed condition: that is another
 * writer, which the caller re-reads and recomputes for.
 *
 * @module
 */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";

const TRANSIENT_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionConflictException",
  "TimeoutError",
]);
const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT"]);

/** True for throttling, server-side and connection errors, which a retry may cure. */
export function isTransientDynamoError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) return true;
  const code = (error as { code?: string }).code;
  return code !== undefined && NETWORK_CODES.has(code);
}

function reasons(error: unknown): string[] {
  if (!(error instanceof TransactionCanceledException)) return [];
  return (error.CancellationReasons ?? []).map((r) => r.Code ?? "None");
}

/** Whether a cancelled transaction failed a condition (another writer got in first). */
export function isConditionFailure(error: unknown): boolean {
  return reasons(error).includes("ConditionalCheckFailed");
}

/** Cancellation reasons that pass with time. */
const BUSY_REASONS = new Set([
  "TransactionConflict",
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
]);
/** Exceptions that say the same about the whole request. */
const BUSY_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TransactionConflictException",
]);

/**
 * Why DynamoDB refused a transaction, when the refusal passes with time (throttling, a
 * conflict with another transaction); undefined for anything else. A cancellation counts
 * only when every item's reason is `None` or one of those.
 */
export function busyReason(error: unknown): string | undefined {
  const codes = reasons(error).filter((code) => code !== "None");
  if (codes.length > 0) return codes.every((c) => BUSY_REASONS.has(c)) ? codes[0] : undefined;
  return error instanceof Error && BUSY_ERRORS.has(error.name) ? error.name : undefined;
}

/** Refusals that pass with time, and transient service and network errors, are retried. */
export function isTransientTransactionError(error: unknown): boolean {
  if (busyReason(error) !== undefined) return true;
  return reasons(error).length === 0 && isTransientDynamoError(error);
}
