/**
 * `/healthz`, `/readyz` and `/metrics` for container orchestrators.
 *
 * @module
 */
import { log } from "../../util/log.ts";

/** What the endpoints report. */
export interface HealthSource {
  /** The process loop is alive (not stuck in a failed state). */
  healthy(): boolean;
  /** Handoff read and consumer joined: the worker is doing its job. */
  ready(): boolean;
  /** Prometheus text. */
  metrics(): string;
}

/** Serves the endpoints on `port` until `signal` aborts. */
export function serveHealth(
  port: number,
  source: HealthSource,
  signal: AbortSignal,
): Deno.HttpServer {
  const text = (status: number, body: string, type = "text/plain; charset=utf-8") =>
    new Response(body, { status, headers: { "content-type": type } });
  return Deno.serve({
    port,
    hostname: "0.0.0.0",
    signal,
    onListen: ({ port }) =>
      log("info", "http listening", { port, paths: ["/healthz", "/readyz", "/metrics"] }),
  }, (request) => {
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
