/**
 * Reading MongoDB change-stream resume tokens. A token's `_data` is a KeyString whose
 * first byte is 0x82 (a Timestamp follows) and whose next 8 bytes are the cluster time
 * `t << 32 | i`, big-endian. Tokens from one server compare correctly as strings.
 *
 * @module
 */
import type { ClusterTime } from "../../pipeline/change.ts";
import { describe } from "../../util/describe.ts";

/** A resume token as the server sends it. */
export interface ResumeToken {
  _data: string;
  _typeBits?: unknown;
}

/** Thrown when a token does not have MongoDB's KeyString layout. */
export class ResumeTokenError extends TypeError {
  constructor(token: unknown, reason: string) {
    super(`Cannot read resume token ${describe(token)}: ${reason}`);
    this.name = "ResumeTokenError";
  }
}

/** The cluster time a resume token stands at. */
export function tokenClusterTime(token: ResumeToken): ClusterTime {
  const data = token?._data;
  if (typeof data !== "string" || !/^[0-9a-fA-F]{18,}$/.test(data)) {
    throw new ResumeTokenError(token, "_data must be a hex string of at least 9 bytes");
  }
  if (data.slice(0, 2) !== "82") {
    throw new ResumeTokenError(token, `first byte is 0x${data.slice(0, 2)}, expected 0x82`);
  }
  return BigInt(`0x${data.slice(2, 18)}`);
}
