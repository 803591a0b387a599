// NDJSON lines from a plain or gzip file with bounded memory: the file is streamed, split on "\n" at
// the byte level, and a line longer than the cap is skipped (reported) instead of buffered, so one
// giant line cannot exhaust memory and a 2 GB file reads in the memory of a small one.
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import type { Readable } from "node:stream";
import { isUtf8 } from "node:buffer";

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export type NdjsonLine = { line: number; text: string } | { line: number; error: "too-long" | "invalid-utf8" };


function openStream(path: string): Readable {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!path.endsWith(".gz")) return raw;
  // megabyte output chunks (the default is 16 KB): fewer awaits and split lines, and gunzip keeps ahead
  const gz = createGunzip({ chunkSize: 1 << 20 });
  raw.on("error", (e) => gz.destroy(e));
  return raw.pipe(gz);
}

function decode(parts: Buffer[], len: number): string | null {
  const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, len);
  // strip a trailing CR (CRLF files) before decoding
  const end = buf.length && buf[buf.length - 1] === 13 ? buf.length - 1 : buf.length;
  return isUtf8(buf.subarray(0, end)) ? buf.toString("utf8", 0, end) : null;
}

/**
 * Non-empty lines, numbered from 1 as an editor shows them, in batches (one per read chunk): one
 * await per megabyte instead of one per line.
 */
export async function* readNdjson(path: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): AsyncGenerator<NdjsonLine[]> {
  let parts: Buffer[] = [];
  let len = 0;
  let tooLong = false;
  let lineNo = 1;
  let batch: NdjsonLine[] = [];
  const flush = () => {
    if (tooLong) batch.push({ line: lineNo, error: "too-long" });
    else if (len > 0) {
      const text = decode(parts, len);
      if (text === null) batch.push({ line: lineNo, error: "invalid-utf8" });
      else if (text.trim()) batch.push({ line: lineNo, text });
    }
    parts = [];
    len = 0;
    tooLong = false;
    lineNo++;
  };
  for await (const chunk of openStream(path) as AsyncIterable<Buffer>) {
    let start = 0;
    // fast path: the chunk's complete lines (with the carried-over start of the first) decoded as one
    // string when valid UTF-8 and too short to hold an over-long line; else line by line below
    const lastNl = chunk.lastIndexOf(10);
    if (!tooLong && lastNl >= 0 && len + lastNl <= maxLineBytes) {
      const whole = len ? Buffer.concat([...parts, chunk.subarray(0, lastNl)], len + lastNl) : chunk.subarray(0, lastNl);
      if (isUtf8(whole)) {
        for (const raw of whole.toString("utf8").split("\n")) {
          const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
          if (text.trim()) batch.push({ line: lineNo, text });
          lineNo++;
        }
        parts = [];
        len = 0;
        start = lastNl + 1;
      }
    }
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      if (!tooLong && end > start) {
        if (len + end - start > maxLineBytes) {
          tooLong = true;
          parts = [];
          len = 0;
        } else {
          parts.push(chunk.subarray(start, end));
          len += end - start;
        }
      }
      if (nl < 0) break;
      flush();
      start = nl + 1;
    }
    if (batch.length) {
      yield batch;
      batch = [];
    }
  }
  if (len > 0 || tooLong) flush();
  if (batch.length) yield batch;
}
