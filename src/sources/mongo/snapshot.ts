/**
 * Reading the orders collection for a bootstrap: the change-stream position to hand
 * off from, and a scan of every document. Uses only the official driver's public API,
 * so it behaves the same against any MongoDB replica set.
 *
 * @module
 */
import type { Collection, Document, MongoClient } from "mongodb";
import { MongoServerError } from "mongodb";
import { type ResumeToken, tokenClusterTime } from "./resume_token.ts";
import type { ClusterTime } from "../../pipeline/change.ts";
import { OrderstatsError, ServiceError } from "../../util/errors.ts";
import { describe } from "../../util/describe.ts";
import { isUnknownTypeAlias, rangeFilter, splitPoints } from "./id_ranges.ts";

/** Where the change stream stood just before the scan started. */
export interface ResumePoint {
  token: ResumeToken;
  clusterTime: ClusterTime;
  /** The server's operation time of the watch, when it reported one. */
  operationTime?: ClusterTime;
}

/** The server cannot open a change stream (standalone server, FerretDB, …). */
export class NoChangeStreamsError extends OrderstatsError {
  constructor(namespace: string, options?: ErrorOptions) {
    super(
      "NO_CHANGE_STREAMS",
      `Cannot open a change stream on ${namespace}: the server needs to be a replica set ` +
        "or sharded cluster with change streams. Without one, live mode cannot know where " +
        "the snapshot ends; pass --allow-no-change-streams to bootstrap anyway.",
      options,
    );
  }
}

// Server answers meaning "this deployment has no change streams".
const NO_CHANGE_STREAM_CODES = new Set([40573, 115, 40324, 20, 238]);

/**
 * Opens a change stream on the collection and returns its resume token before any
 * event: the `postBatchResumeToken` of the first (empty) batch. Everything that
 * happens after this point reaches live mode through CDC.
 */
export async function captureResumePoint(
  client: MongoClient,
  collection: Collection,
): Promise<ResumePoint> {
  const session = client.startSession();
  const stream = collection.watch([], { session, maxAwaitTimeMS: 1 });
  try {
    await stream.tryNext();
    const token = stream.resumeToken as ResumeToken | null;
    if (token === null) {
      throw new ServiceError(`${collection.namespace}: the server returned no resume token`);
    }
    const op = session.operationTime;
    return {
      token,
      clusterTime: tokenClusterTime(token),
      operationTime: op === undefined ? undefined : BigInt(op.toString()),
    };
  } catch (error) {
    if (error instanceof MongoServerError && NO_CHANGE_STREAM_CODES.has(Number(error.code))) {
      throw new NoChangeStreamsError(collection.namespace, { cause: error });
    }
    throw error;
  } finally {
    await stream.close();
    await session.endSession();
  }
}

/**
 * Every document of the collection in `_id` order, with numbers kept as BSON values
 * (int64 and Decimal128 exact). The driver fetches `batchSize` at a time as the caller
 * consumes, which is the backpressure. Read concern `majority`: a write that a failover
 * later rolls back is never counted (its change event never reaches Kafka either).
 */
export async function* scanCollection(
  collection: Collection,
  options: ScanOptions,
): AsyncGenerator<Document> {
  let started = false;
  try {
    for await (const doc of scanWith(collection, options, true)) {
      started = true;
      yield doc;
    }
  } catch (error) {
    // Refused before the first document: the server knows (and holds) no rare types.
    if (started || options.range === undefined || !isUnknownTypeAlias(error)) throw error;
    yield* scanWith(collection, options, false);
  }
}

async function* scanWith(
  collection: Collection,
  { batchSize, signal, range }: ScanOptions,
  rareTypes: boolean,
): AsyncGenerator<Document> {
  const filter = range === undefined ? {} : rangeFilter(range.from, range.to, { rareTypes });
  const cursor = collection.find(filter, {
    // A range needs no order (MongoDB walks the _id index for it anyway); unsorted, a server
    // without range push-down (FerretDB) streams the first batch instead of sorting first.
    ...(range === undefined ? { sort: { _id: 1 } } : {}),
    batchSize,
    promoteValues: false,
    readConcern: { level: "majority" },
  });
  try {
    for await (const doc of cursor) {
      signal?.throwIfAborted();
      yield doc;
    }
  } finally {
    await cursor.close();
  }
}

/**
 * A range of `_id`s, `[from, to)`, ends as {@link SnapshotSource.splitPoints} returns them;
 * an absent end is unbounded.
 */
export interface IdRange {
  from?: string;
  to?: string;
}

/** What to scan, how many documents per batch. */
export interface ScanOptions {
  batchSize: number;
  signal?: AbortSignal;
  /** Only these `_id`s. @default all */
  range?: IdRange;
}

/** One scanned document, and how errors name it (`db.orders _id=42`). */
export interface SnapshotDocument {
  document: Document;
  where: string;
}

/** What a bootstrap reads: where to hand off from, then every document. */
export interface SnapshotSource {
  /** Names the source in messages (`db.collection`). */
  readonly namespace: string;
  /** The change-stream position just before the scan; throws {@link NoChangeStreamsError}. */
  resumePoint(): Promise<ResumePoint>;
  /** A cheap estimate of the number of documents, for progress only. */
  estimatedCount(): Promise<number>;
  /**
   * Up to `segments − 1` ascending `_id`s (encoded) cutting the collection into ranges of
   * about equal size, for a segmented bootstrap.
   */
  splitPoints(segments: number, signal?: AbortSignal): Promise<string[]>;
  /** Every document (of the range), each named for error messages. */
  scan(options: ScanOptions): AsyncIterable<SnapshotDocument>;
}

/** A MongoDB collection read as a bootstrap source. */
export class MongoSnapshotSource implements SnapshotSource {
  constructor(
    private readonly client: MongoClient,
    private readonly collection: Collection,
  ) {}

  /** `db.collection`, for messages. */
  get namespace(): string {
    return this.collection.namespace;
  }

  /** See {@link captureResumePoint}. */
  resumePoint(): Promise<ResumePoint> {
    return captureResumePoint(this.client, this.collection);
  }

  /** The collection's document count from metadata (cheap, for ETA only). */
  estimatedCount(): Promise<number> {
    return this.collection.estimatedDocumentCount();
  }

  /** See {@link splitPoints}. */
  splitPoints(segments: number, signal?: AbortSignal): Promise<string[]> {
    return splitPoints(this.collection, segments, signal);
  }

  /** Every document (of the range) in `_id` order, named for error messages. */
  async *scan(options: ScanOptions): AsyncGenerator<SnapshotDocument> {
    for await (const document of scanCollection(this.collection, options)) {
      yield { document, where: `${this.namespace} _id=${describe(document._id)}` };
    }
  }
}
