/**
 * Record-batch compression for KafkaJS, which only ships gzip: snappy, lz4 and zstd are
 * registered here so a topic written by any producer (Kafka Connect, Debezium, a JVM
 * client with `compression.type` set) can be read, and the dead-letter topic can use any.
 *
 * - snappy: `kafkajs-snappy`, KafkaJS's own codec (pure JS, handles the xerial framing
 *   JVM producers write).
 * - lz4: `lz4-napi` (lz4_flex through Node-API), whose frame format Kafka accepts; the pure
 *   JS `lz4js` reads Kafka's frames but writes dependent blocks, which brokers reject.
 * - zstd: the runtime's own `node:zlib` zstd, no package needed.
 *
 * @module
 */
import zlib from "node:zlib";
import { promisify } from "node:util";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import SnappyCodec from "kafkajs-snappy";
import { compressFrame, decompressFrame } from "lz4-napi";

/** Compression names as `compression.type` spells them, with their KafkaJS types. */
export const COMPRESSIONS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const;

/** A compression name: `none`, `gzip`, `snappy`, `lz4` or `zstd`. */
export type Compression = keyof typeof COMPRESSIONS;

const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify(zlib.zstdDecompress);

let registered = false;

/** Registers the snappy, lz4 and zstd codecs with KafkaJS (once per process). */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: (encoder: { buffer: Buffer }) => compressFrame(encoder.buffer),
    decompress: (buffer: Buffer) => decompressFrame(buffer),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: (encoder: { buffer: Buffer }) => zstdCompress(encoder.buffer),
    decompress: (buffer: Buffer) => zstdDecompress(buffer),
  });
}
