/**
 * The HTTP server of live and serve modes: `/healthz`, `/readyz` and `/metrics` for
 * container orchestrators, plus optional routes (the read API).
 *
 * @module
 */
import { log } from "../util/log.ts";

/** What the endpoints report. */
export interface HealthSource {
  /** The process loop is alive (not stuck in a failed state). */
  healthy(): boolean;
  /** The process is doing its job (live: handoff read and consumer joined). */
  ready(): boolean;
  /** Prometheus text. */
  metrics(): string;
}

/** Extra routes: a response for the paths they own, undefined for any other path. */
export type Routes = (request: Request) => Promise<Response | undefined>;

/** Serves the endpoints (and `routes`, when given) on `port` until `signal` aborts. */
export function serveHttp(
  port: number,
  source: HealthSource,
  signal: AbortSignal,
  routes?: Routes,
): Deno.HttpServer {
  const text = (status: number, body: string, type = "text/plain; charset=utf-8") =>
    new Response(body, { status, headers: { "content-type": type } });
  return Deno.serve({
    port,
    hostname: "0.0.0.0",
    signal,
    onListen: ({ port }) =>
      log("info", "http listening", {
        port,
        paths: ["/healthz", "/readyz", "/metrics", ...(routes ? ["/v1/totals"] : [])],
      }),
  }, async (request) => {
    const routed = await routes?.(request);
    if (routed !== undefined) return routed;
    switch (new URL(request.url).pathname) {
      case "/healthz":
        return source.healthy() ? text(200, "ok\n") : text(503, "unhealthy\n");
      case "/readyz":
        return source.ready() ? text(200, "ready\n") : text(503, "not ready\n");
      case "/metrics":
        return text(200, source.metrics(), "text/plain; version=0.0.4; charset=utf-8");
      default:
        return text(404, "not found\n");
    }
  });
}
