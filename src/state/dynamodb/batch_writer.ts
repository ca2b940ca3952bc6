/**
 * Writes many items with BatchWriteItem: 25 per request, a bounded number of requests
 * in flight (callers wait for room, which is the backpressure), unprocessed items
 * retried with backoff.
 *
 * @module
 */
import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { isTransientDynamoError } from "./retriable.ts";
import { backoffMs, retry, sleep } from "../../util/retry.ts";
import { ServiceError } from "../../util/errors.ts";

const MAX_BATCH = 25;
const MAX_UNPROCESSED_ROUNDS = 20;

/** Options for {@link BatchWriter}. */
export interface BatchWriterOptions {
  /** Requests in flight at most. @default 16 */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Buffers put/delete requests for one table and writes them in parallel batches. */
export class BatchWriter {
  #buffer: WriteRequest[] = [];
  #inFlight = new Set<Promise<void>>();
  #failure: unknown;
  #written = 0;
  readonly #concurrency: number;
  readonly #signal?: AbortSignal;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    { concurrency = 16, signal }: BatchWriterOptions = {},
  ) {
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`Cannot write batches: concurrency must be ≥ 1: got ${concurrency}`);
    }
    this.#concurrency = concurrency;
    this.#signal = signal;
  }

  /** Items acknowledged by DynamoDB so far. */
  get written(): number {
    return this.#written;
  }

  /** Queues one request; resolves when there is room for more. */
  async add(request: WriteRequest): Promise<void> {
    this.#throwIfFailed();
    this.#buffer.push(request);
    if (this.#buffer.length >= MAX_BATCH) await this.#send();
  }

  /** Writes everything queued and waits for all of it. */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0) await this.#send();
    await Promise.all(this.#inFlight);
    this.#throwIfFailed();
  }

  async #send(): Promise<void> {
    while (this.#inFlight.size >= this.#concurrency) await Promise.race(this.#inFlight);
    this.#throwIfFailed();
    this.#signal?.throwIfAborted();
    const batch = this.#buffer.splice(0, MAX_BATCH);
    const task = this.#write(batch)
      .catch((error) => {
        this.#failure ??= error;
      })
      .finally(() => this.#inFlight.delete(task));
    this.#inFlight.add(task);
  }

  async #write(batch: WriteRequest[]): Promise<void> {
    let pending = batch;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_UNPROCESSED_ROUNDS) {
        throw new ServiceError(
          `DynamoDB left ${pending.length} items of table ${this.table} unprocessed ` +
            `after ${round} attempts`,
        );
      }
      if (round > 0) await sleep(backoffMs(round), this.#signal);
      const out = await retry(
        () =>
          this.client.send(
            new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } }),
            { abortSignal: this.#signal },
          ),
        { isRetriable: isTransientDynamoError, signal: this.#signal },
      );
      const left = out.UnprocessedItems?.[this.table] ?? [];
      this.#written += pending.length - left.length;
      pending = left;
    }
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) {
      throw new ServiceError(`Writing to DynamoDB table ${this.table} failed`, {
        cause: this.#failure,
      });
    }
  }
}
