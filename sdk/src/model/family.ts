// What every model family (builder.ts: logreg/MLP, cnn.ts: CNN) shares: the optimiser schema, the
// Adam state declaration, the mini-batch slice of an epoch Loop and the deterministic weight PRNG.
// Its own module so each family can import it without importing the builder (which dispatches to
// every family and so imports them).
import { z } from "zod";
import type { GraphBuilder } from "./graph.js";

export interface TensorDecl { name: string; shape: number[] }

/** Optimiser of every family (SGD or Adam). */
export const OptimizerSchema = z.strictObject({
  type: z.enum(["sgd", "adam"]),
  lr: z.number().positive().max(10),
  beta1: z.number().min(0).max(0.9999).default(0.9),
  beta2: z.number().min(0).max(0.99999).default(0.999),
  eps: z.number().positive().max(1).default(1e-8),
});

/** Deterministic PRNG (mulberry32) for weight init, so bundles are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Inside an epoch Loop body: rows [iter·B, iter·B+B) of the outer X and Y (every family's mini-batch). */
export function loopBatchSlice(body: GraphBuilder, batchSize: number): { Xb: string; Yb: string } {
  const bs = body.constI([batchSize], [1]);
  const start = body.o("Mul", [body.o("Reshape", ["body_iter", body.constI([1])]), bs]);
  const end = body.o("Add", [start, bs]);
  const ax = body.constI([0]);
  return { Xb: body.o("Slice", ["X", start, end, ax]), Yb: body.o("Slice", ["Y", start, end, ax]) };
}

/** Optimiser state tensors, in bundle order: Adam keeps first and second moments per parameter. */
export function optimizerState(params: TensorDecl[], optimizer: "sgd" | "adam"): TensorDecl[] {
  return optimizer === "adam" ? params.flatMap((p) => [{ name: `${p.name}_m`, shape: p.shape }, { name: `${p.name}_v`, shape: p.shape }]) : [];
}
