/**
 * Handshake answers (TEST SUPPORT): the proxy presents itself as the primary of a one-member
 * replica set so the driver enables sessions, retryable writes and change streams.
 */
import { type Document, Long, ObjectId } from "bson";
import { type ClusterTime, toTimestamp } from "./clock.ts";

export const SET_NAME = "rs0";
/** MongoDB 7.0; FerretDB 1.24 reports the same, so the driver's command shapes suit it. */
export const MAX_WIRE_VERSION = 21;

const processId = new ObjectId();
const electionId = new ObjectId("7fffffff0000000000000001");

export function isHello(name: string): boolean {
  return name === "hello" || name === "isMaster" || name === "ismaster";
}

export interface HelloInput {
  /** The command name the client used: legacy names answer with `ismaster`. */
  commandName: string;
  helloOk: boolean;
  host: string;
  connectionId: number;
  now: ClusterTime;
}

export function helloReply(input: HelloInput): Document {
  const { commandName, host, now } = input;
  const ts = toTimestamp(now);
  const date = new Date(now.t * 1000);
  const opTime = { ts, t: Long.fromNumber(1) };
  return {
    ...(commandName === "hello" ? { isWritablePrimary: true } : { ismaster: true }),
    ...(input.helloOk || commandName === "hello" ? { helloOk: true } : {}),
    topologyVersion: { processId, counter: Long.fromNumber(0) },
    hosts: [host],
    setName: SET_NAME,
    setVersion: 1,
    secondary: false,
    primary: host,
    me: host,
    electionId,
    lastWrite: {
      opTime,
      lastWriteDate: date,
      majorityOpTime: opTime,
      majorityWriteDate: date,
    },
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: input.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
}
