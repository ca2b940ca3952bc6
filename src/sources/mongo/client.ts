/**
 * The MongoDB client. Options written in the connection string are the operator's and win:
 * orderstats only fills in defaults the string leaves unset (the driver would otherwise let
 * an option passed in code override the same option in the string).
 *
 * @module
 */
import { MongoClient, type MongoClientOptions } from "mongodb";

/** orderstats' defaults: fail a first connection within 10 s instead of the driver's 30 s. */
const DEFAULTS: MongoClientOptions = { serverSelectionTimeoutMS: 10_000 };

/**
 * The options of `uri`'s query string, lower-cased (URI options are case-insensitive).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(uriOptionNames("mongodb://h/?serverSelectionTimeoutMS=500&tls=true"), new Set([
 *   "serverselectiontimeoutms",
 *   "tls",
 * ]));
 * ```
 */
export function uriOptionNames(uri: string): Set<string> {
  const query = uri.includes("?") ? uri.slice(uri.indexOf("?") + 1) : "";
  return new Set(query.split("&").filter(Boolean).map((pair) => pair.split("=")[0].toLowerCase()));
}

/** A client for `uri`, with orderstats' defaults for what `uri` does not set. */
export function mongoClient(uri: string): MongoClient {
  const set = uriOptionNames(uri);
  const defaults = Object.entries(DEFAULTS).filter(([name]) => !set.has(name.toLowerCase()));
  return new MongoClient(uri, Object.fromEntries(defaults));
}

/**
 * What the driver finds wrong with `uri` (a bad port, an unknown or malformed option), or
 * `undefined` when it parses. Parsing connects to nothing.
 */
export function mongoUriProblem(uri: string): string | undefined {
  try {
    void new MongoClient(uri);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
