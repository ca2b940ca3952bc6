/**
 * The read API (docs/api.md): `GET /v1/totals/{customer}` and
 * `GET /v1/totals?limit=&cursor=`. Answers are JSON with totals as strings (int64 stays
 * exact); errors are `{"error": {"code", "message"}}`. Every read is strongly consistent
 * and touches only the totals table.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { TotalRow, TotalsPage } from "../../state/store.ts";
import { MissingTableError } from "../../state/dynamodb/store.ts";
import { isTransientDynamoError } from "../../state/dynamodb/retriable.ts";
import { errorFields, log, toJson } from "../../util/log.ts";
import { renderMetrics, Series } from "../../util/metrics.ts";
import type { Routes } from "../http.ts";

/** Rows per page when `limit` is absent. */
export const DEFAULT_LIMIT = 100;
/** The largest `limit` accepted. */
export const MAX_LIMIT = 1000;

/** What the API reads: one total, or a page of them. */
export interface TotalsReader {
  total(pipeline: string, key: string): Promise<TotalRow | undefined>;
  totalsPage(pipeline: string, page: { limit: number; after?: string }): Promise<TotalsPage>;
}

const PREFIX = "/v1/totals";

/** A request the API refuses: HTTP status, stable code, message. */
class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Requests the API answered, for `/metrics`. */
export class ApiMetrics {
  readonly requests = new Series(
    "orderstats_api_requests_total",
    "Read API requests by route (customer, list) and HTTP status",
    "counter",
  );

  /** Prometheus text. */
  render(): string {
    return renderMetrics([this.requests]);
  }
}

/** How the API presents customers. */
export interface ApiOptions {
  /**
   * The `customer_id` a key stands for, as JSON text (a number stays a number with every
   * digit). @default the key as a JSON string
   */
  customerJson?: (key: string) => string;
  metrics?: ApiMetrics;
}

/** The `/v1/totals` routes of `pipeline`, reading from `reader`. */
export function totalsRoutes(
  reader: TotalsReader,
  pipeline: string,
  { customerJson = JSON.stringify, metrics = new ApiMetrics() }: ApiOptions = {},
): Routes {
  const rowJson = (row: TotalRow) =>
    `{"customer_id":${customerJson(row.key)},"key":${JSON.stringify(row.key)},` +
    `"total":"${row.total}","updated_at":${JSON.stringify(row.updatedAt ?? null)}}`;
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return undefined;
    const route = url.pathname === PREFIX ? "list" : "customer";
    const response = await answer({ reader, pipeline, rowJson }, request, url, route);
    metrics.requests.inc({ route, status: String(response.status) });
    return response;
  };
}

/** What a route needs to answer. */
interface RouteContext {
  reader: TotalsReader;
  pipeline: string;
  /** One total as JSON text. */
  rowJson: (row: TotalRow) => string;
}

async function answer(
  ctx: RouteContext,
  request: Request,
  url: URL,
  route: "list" | "customer",
): Promise<Response> {
  try {
    if (request.method !== "GET") {
      throw new ApiError(405, "method_not_allowed", `${request.method} is not allowed; use GET`);
    }
    return jsonText(200, await (route === "list" ? listPage : one)(ctx, url));
  } catch (error) {
    return errorResponse(error, request);
  }
}

async function one({ reader, pipeline, rowJson }: RouteContext, url: URL): Promise<string> {
  const segment = url.pathname.slice(PREFIX.length + 1);
  if (segment === "" || segment.includes("/")) {
    throw new ApiError(
      404,
      "no_route",
      `No route for ${url.pathname}: use /v1/totals/{customer} (encode '/' as %2F)`,
    );
  }
  onlyParameters(url, []);
  const customer = decodeSegment(segment);
  const row = await reader.total(pipeline, customer);
  if (row === undefined) {
    throw new ApiError(
      404,
      "customer_not_found",
      `No total for customer ${JSON.stringify(customer)}`,
    );
  }
  return rowJson(row);
}

async function listPage({ reader, pipeline, rowJson }: RouteContext, url: URL): Promise<string> {
  onlyParameters(url, ["limit", "cursor"]);
  const limitText = url.searchParams.get("limit");
  const cursor = url.searchParams.get("cursor");
  const limit = limitText === null ? DEFAULT_LIMIT : parseLimit(limitText);
  const page = await reader.totalsPage(pipeline, {
    limit,
    after: cursor === null ? undefined : decodeCursor(cursor),
  });
  const next = page.next === undefined ? null : encodeCursor(page.next);
  return `{"totals":[${page.rows.map(rowJson).join(",")}],"next_cursor":${JSON.stringify(next)}}`;
}

function onlyParameters(url: URL, allowed: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of url.searchParams.keys()) {
    if (!allowed.includes(name)) {
      const expected = allowed.length === 0 ? "none" : allowed.join(", ");
      throw new ApiError(
        400,
        "unknown_parameter",
        `Unknown query parameter "${name}" (expected: ${expected})`,
      );
    }
    if (seen.has(name)) {
      throw new ApiError(400, "repeated_parameter", `Query parameter "${name}" is given twice`);
    }
    seen.add(name);
  }
}

function parseLimit(text: string): number {
  const limit = /^[1-9][0-9]{0,5}$/.test(text) ? Number(text) : NaN;
  if (!(limit <= MAX_LIMIT)) {
    throw new ApiError(
      400,
      "bad_limit",
      `limit must be an integer from 1 to ${MAX_LIMIT}: got ${JSON.stringify(text)}`,
    );
  }
  return limit;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(
      400,
      "bad_customer",
      `Customer ${JSON.stringify(segment)} is not valid percent-encoding`,
    );
  }
}

/** Cursors are the last read key, base64url-encoded: opaque to clients, checked on return. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  if (cursor === "" || encodeCursor(key) !== cursor || !key.startsWith("T#")) {
    throw new ApiError(
      400,
      "bad_cursor",
      "cursor is not one this API returned: pass next_cursor from the previous page unchanged",
    );
  }
  return key;
}

function jsonText(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return jsonText(status, toJson(body), headers);
}

function errorResponse(error: unknown, request: Request): Response {
  if (error instanceof ApiError) {
    const headers: Record<string, string> = error.status === 405 ? { allow: "GET" } : {};
    return json(error.status, { error: { code: error.code, message: error.message } }, headers);
  }
  log("error", "api request failed", {
    path: new URL(request.url).pathname,
    ...errorFields(error),
  });
  if (error instanceof MissingTableError || isTransientDynamoError(error)) {
    return json(503, {
      error: { code: "unavailable", message: "The totals could not be read now; try again" },
    });
  }
  return json(500, { error: { code: "internal", message: "Unexpected failure; see the log" } });
}
