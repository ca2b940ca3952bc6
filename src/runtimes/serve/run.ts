/**
 * `--mode=serve`: the read API on its own, beside `/healthz`, `/readyz` and `/metrics`.
 * It reads only the totals table, so it can run anywhere and scale apart from live.
 *
 * @module
 */
import { serveHttp } from "../http.ts";
import { ApiMetrics, type ApiOptions, type TotalsReader, totalsRoutes } from "./api.ts";

/** Options for {@link runServe}. */
export interface ServeOptions {
  reader: TotalsReader;
  pipeline: string;
  port: number;
  /** How customers are presented. */
  api?: Omit<ApiOptions, "metrics">;
  /** Aborting stops the server (after the requests in hand). */
  signal: AbortSignal;
}

/** Serves until `signal` aborts; fails first when the totals table cannot be read. */
export async function runServe(
  { reader, pipeline, port, api, signal }: ServeOptions,
): Promise<void> {
  // A missing table or unreachable DynamoDB fails the start, not every request.
  await reader.total(pipeline, "");
  const metrics = new ApiMetrics();
  const server = serveHttp(
    port,
    {
      healthy: () => true,
      ready: () => true,
      metrics: () => metrics.render(),
    },
    signal,
    totalsRoutes(reader, pipeline, { ...api, metrics }),
  );
  await server.finished;
}
