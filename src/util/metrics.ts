/**
 * A tiny Prometheus registry: labelled counters and gauges, and a latency histogram,
 * rendered in the text exposition format for `/metrics`.
 *
 * @module
 */

/** Prometheus labels of one series. */
export type Labels = Record<string, string>;

const labelText = (labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replaceAll('"', '\\"')}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
};

/** Anything `/metrics` renders. */
export interface Metric {
  render(): string[];
}

/**
 * A value per label set; `counter` only goes up, `gauge` is set. The label sets in
 * `initial` (default: the unlabelled one) are rendered at 0 from the start, so a
 * dashboard or alert sees the series before the first event.
 */
export class Series implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    initial: readonly Labels[] = [{}],
  ) {
    for (const labels of initial) this.#values.set(labelText(labels), 0);
  }

  /** Adds `n` (counters). */
  inc(labels: Labels = {}, n = 1): void {
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + n);
  }

  /** Sets the value (gauges). */
  set(value: number, labels: Labels = {}): void {
    this.#values.set(labelText(labels), value);
  }

  /** The value for a label set (tests, logs). */
  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels)) ?? 0;
  }

  /** The sum over all label sets. */
  total(): number {
    let sum = 0;
    for (const value of this.#values.values()) sum += value;
    return sum;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [labels, value] of this.#values) lines.push(`${this.name}${labels} ${value}`);
    return lines;
  }
}

/** Durations in seconds, bucketed. */
export class Histogram implements Metric {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  ) {
    this.#counts = buckets.map(() => 0);
  }

  /** Records one observation. */
  observe(seconds: number): void {
    this.#sum += seconds;
    this.#count++;
    this.buckets.forEach((b, i) => {
      if (seconds <= b) this.#counts[i]++;
    });
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.#counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`);
    lines.push(`${this.name}_sum ${this.#sum}`, `${this.name}_count ${this.#count}`);
    return lines;
  }
}

/** A gauge or counter read when `/metrics` is scraped (memory, CPU time, …). */
export class Sampled implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    readonly read: () => number,
  ) {}

  render(): string[] {
    const head = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    return [...head, `${this.name} ${this.read()}`];
  }
}

/** Renders metrics in the Prometheus text format. */
export function renderMetrics(metrics: readonly Metric[]): string {
  return metrics.flatMap((m) => m.render()).join("\n") + "\n";
}
