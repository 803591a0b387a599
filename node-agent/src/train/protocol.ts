// The agent <-> training-child protocol. Input: one binary frame on the child's stdin (header JSON +
// float32 payload, sizes bounded and checked on both sides). Output: JSON lines on its stdout.
// The child never receives a path, a record id, a key or anything but the spec, the initial weights
// and the feature matrix/labels; it returns weights and aggregates only.
import type { ModelSpecParsed } from "@rapha/sdk/model/builder";
import type { PrivacySpent } from "./dp-trainer.js";

export const FRAME_MAGIC = 0x48504152; // "RAPH" little-endian
/** Upper bound of a header (spec + sizes); a spec is a few hundred bytes. */
export const MAX_HEADER_BYTES = 64 * 1024;
/** Upper bound of the float32 payload (weights + train/validation matrices): 1.5 GiB. */
export const MAX_PAYLOAD_BYTES = 1.5 * 1024 * 1024 * 1024;

export interface FrameHeader {
  spec: ModelSpecParsed;
  epochs: number;
  threads: number;
  dim: number;
  nTrain: number;
  nVal: number;
  /** float32 count of the initial weights (all tensors, builder order) */
  paramCount: number;
}

/** What the child probes before it reads a byte of input (passed on its command line). */
export interface SelfCheckPlan {
  network: { host: string; port: number }[];
  files: string[];
}

export interface ProbeResult {
  target: string;
  result: string;
}

export interface ValidationMetrics {
  n: number;
  bce: number;
  auc: number;
  accuracy: number;
  baselineBce: number;
}

export type ChildMessage =
  | { type: "isolation"; ok: boolean; network: ProbeResult[]; files: ProbeResult[] }
  | { type: "epoch"; epoch: number; epochs: number; /** the epoch's mean training loss (the agent publishes it rounded) */ loss?: number }
  | {
      type: "done";
      /** trained weights, float32 little-endian, base64 */
      weights: string;
      /** mean BCE of each epoch (as the epoch graph computes it): goes only into the encrypted result */
      lossCurve: number[];
      /** BCE of the final weights over the training rows, computed after training (float64) */
      trainLoss: number;
      validation?: ValidationMetrics;
      seconds: number;
      recordsPerSecond: number;
      /** DP-SGD runs (spec.privacy): the ε spent at δ, σ, steps, sampling rate */
      privacy?: PrivacySpent;
    }
  | { type: "error"; message: string };

export const payloadBytes = (h: Pick<FrameHeader, "paramCount" | "dim" | "nTrain" | "nVal">) => 4 * (h.paramCount + (h.nTrain + h.nVal) * (h.dim + 1));

/** Encodes the child's input: [magic u32][header length u32][header JSON][float32 payload]. */
export function encodeFrame(h: FrameHeader, parts: { weights: Float32Array; Xt: Float32Array; Yt: Float32Array; Xv: Float32Array; Yv: Float32Array }): Buffer[] {
  const head = Buffer.from(JSON.stringify(h));
  if (head.length > MAX_HEADER_BYTES) throw new Error("training frame header too large");
  if (payloadBytes(h) > MAX_PAYLOAD_BYTES) throw new Error(`training data of ${payloadBytes(h)} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte frame cap`);
  const pre = Buffer.alloc(8);
  pre.writeUInt32LE(FRAME_MAGIC, 0);
  pre.writeUInt32LE(head.length, 4);
  const f = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return [pre, head, f(parts.weights), f(parts.Xt), f(parts.Yt), f(parts.Xv), f(parts.Yv)];
}
