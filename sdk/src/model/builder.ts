// Turns a declared model (logistic regression or MLP, BCE loss, SGD or Adam) into ONNX graphs:
//  - train_epoch.onnx: one call = one epoch (a Loop over mini-batches), 3-4x faster than per-step calls
//  - train_step.onnx:  one call = one mini-batch step
//  - inference.onnx:   X -> prob
// Graph I/O contract (the agent's scanner and trainer rely on it):
//   train_epoch inputs:  X [N,D] f32, Y [N,1] f32, trips int64 [], step [1] f32, <params...>, <state...>
//   train_epoch outputs: loss [1] (mean BCE over the epoch), step_out [1], <param>_out..., <state>_out...
//   train_step  inputs:  X [B,D], Y [B,1], step, params, state;  outputs: loss, step_out, params_out, state_out
//   inference   inputs:  X [N,D], params;  outputs: prob [N,1]
// Nothing per-record is ever a training-graph output.
import { z } from "zod";
import { GraphBuilder, valueInfo, encodeModel, type ValueInfo } from "./graph.js";
import { PrivacySchema, emitDpGradients, dpInputs, dpLoopSlice, dpStepNoise } from "./dp.js";
import { OptimizerSchema, loopBatchSlice, mulberry32, optimizerState, type TensorDecl } from "./family.js";
import { buildCnn, CnnSpecSchema, declareCnn, initCnnParams } from "./cnn.js";

export { OptimizerSchema, loopBatchSlice, mulberry32, optimizerState, type TensorDecl } from "./family.js";

// Families are a discriminated union on `kind` so a new family (e.g. the imaging CNN) is one more
// member; every object is strict: an unknown key is refused, never ignored.
const common = {
  inputDim: z.number().int().min(1).max(4096),
  loss: z.literal("bce").default("bce"),
  optimizer: OptimizerSchema,
  l2: z.number().min(0).max(10).default(0),
  batchSize: z.number().int().min(1).max(1 << 20).default(256),
  epochs: z.number().int().min(1).max(1000).default(10),
  seed: z.number().int().min(0).max(0xffffffff).default(1),
  /** DP-SGD (dp.ts): per-example clipping, Gaussian noise, ε/δ budget; absent = non-private training */
  privacy: PrivacySchema.optional(),
};
export const ModelSpecSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("logreg"), ...common, hidden: z.array(z.number().int()).max(0).default([]) }),
  z.strictObject({ kind: z.literal("mlp"), ...common, hidden: z.array(z.number().int().min(1).max(1024)).min(1).max(4) }),
  CnnSpecSchema,
]);
export type ModelSpec = z.input<typeof ModelSpecSchema>;
export type ModelSpecParsed = z.output<typeof ModelSpecSchema>;
/** The tabular families this module builds itself (the CNN is built by cnn.ts). */
export type TabularSpecParsed = Exclude<ModelSpecParsed, { kind: "cnn" }>;

export interface BuiltModel {
  spec: ModelSpecParsed;
  params: TensorDecl[];
  state: TensorDecl[];
  initialParams: Record<string, Float32Array>;
  trainEpoch: Uint8Array;
  trainStep: Uint8Array;
  inference: Uint8Array;
}

/** Dense layer widths of a tabular model (a CNN's are declared by cnn.ts). */
export function layerSizes(spec: ModelSpecParsed): number[] {
  if (spec.kind === "cnn") throw new Error("layerSizes: a cnn model has convolution blocks; see declareCnn");
  return spec.kind === "logreg" ? [spec.inputDim, 1] : [spec.inputDim, ...spec.hidden, 1];
}

/** The trainable tensors (and optimiser state) a spec implies, in bundle order. */
export function declare(spec: ModelSpecParsed): { params: TensorDecl[]; state: TensorDecl[] } {
  if (spec.kind === "cnn") return declareCnn(spec);
  const sizes = layerSizes(spec);
  const params: TensorDecl[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    params.push({ name: `W${l}`, shape: [sizes[l]!, sizes[l + 1]!] });
    params.push({ name: `b${l}`, shape: [sizes[l + 1]!] });
  }
  return { params, state: optimizerState(params, spec.optimizer.type) };
}

export function initParams(spec: ModelSpecParsed, params: TensorDecl[]): Record<string, Float32Array> {
  if (spec.kind === "cnn") return initCnnParams(spec, params);
  const rnd = mulberry32(spec.seed);
  const out: Record<string, Float32Array> = {};
  for (const p of params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    if (p.name.startsWith("W")) {
      // He-uniform for ReLU layers, Xavier-ish for the output layer
      const fanIn = p.shape[0]!;
      const lim = Math.sqrt(6 / fanIn) * (spec.kind === "logreg" ? 0.1 : 1);
      for (let i = 0; i < n; i++) a[i] = (rnd() * 2 - 1) * lim;
    }
    out[p.name] = a;
  }
  return out;
}

/** Loss sum and mean gradients of a mini-batch (non-private training): hand-written backprop. */
function emitPlainGradients(g: GraphBuilder, acts: string[], pre: string[], Xb: string, Yb: string, params: Record<string, string>): { lossSum: string; grads: Record<string, string> } {
  const L = pre.length;
  const Z = pre[L - 1]!;
  // BCE with logits: softplus(z) - z*y  (numerically stable)
  const perRec = g.o("Sub", [g.o("Softplus", [Z]), g.o("Mul", [Z, Yb])]);
  const lossSum = g.o("Reshape", [g.o("ReduceSum", [perRec], { keepdims: 0 }), g.constI([1])]);
  // batch size as float [1]
  const B = g.o("Cast", [g.o("Shape", [Xb], { start: 0, end: 1 })], { to: 1 });
  const grads: Record<string, string> = {};
  let dZ = g.o("Div", [g.o("Sub", [g.o("Sigmoid", [Z]), Yb]), B]);
  const axis0 = g.constI([0]);
  for (let l = L - 1; l >= 0; l--) {
    grads[`W${l}`] = g.o("MatMul", [g.o("Transpose", [acts[l]!], { perm: [1, 0] }), dZ]);
    grads[`b${l}`] = g.o("ReduceSum", [dZ, axis0], { keepdims: 0 });
    if (l > 0) {
      const dA = g.o("MatMul", [dZ, g.o("Transpose", [params[`W${l}`]!], { perm: [1, 0] })]);
      const mask = g.o("Cast", [g.o("Greater", [pre[l - 1]!, g.constF([0], [])])], { to: 1 });
      dZ = g.o("Mul", [dA, mask]);
    }
  }
  return { lossSum, grads };
}

/** Emits forward + backward + optimizer update for one mini-batch. */
function emitStep(
  g: GraphBuilder,
  spec: TabularSpecParsed,
  Xb: string,
  Yb: string,
  step: string,
  params: Record<string, string>,
  state: Record<string, string>,
  out: { step?: string; params?: Record<string, string>; state?: Record<string, string> },
  dpNoise?: string,
): { lossSum: string } {
  const sizes = layerSizes(spec);
  const L = sizes.length - 1;
  // forward
  const acts: string[] = [Xb];
  const pre: string[] = [];
  let a = Xb;
  for (let l = 0; l < L; l++) {
    const zl = g.o("Add", [g.o("MatMul", [a, params[`W${l}`]!]), params[`b${l}`]!]);
    pre.push(zl);
    if (l < L - 1) {
      a = g.o("Relu", [zl]);
      acts.push(a);
    }
  }
  const dp = spec.privacy && dpNoise ? emitDpGradients(g, { acts, pre, Yb, params, decl: declare(spec).params, noise: dpNoise, privacy: spec.privacy, batchSize: spec.batchSize }) : undefined;
  const { lossSum, grads } = dp ?? emitPlainGradients(g, acts, pre, Xb, Yb, params);
  if (spec.l2 > 0) {
    for (let l = 0; l < L; l++) {
      const k = `W${l}`;
      grads[k] = g.o("Add", [grads[k]!, g.o("Mul", [params[k]!, g.constF([spec.l2], [])])]);
    }
  }
  // optimizer
  const one = g.constF([1], [1]);
  const stepNext = g.o("Add", [step, one], {}, out.step);
  const lr = g.constF([spec.optimizer.lr], []);
  if (spec.optimizer.type === "sgd") {
    for (const k of Object.keys(params)) {
      g.o("Sub", [params[k]!, g.o("Mul", [grads[k]!, lr])], {}, out.params?.[k]);
    }
  } else {
    const { beta1, beta2, eps } = spec.optimizer;
    const b1 = g.constF([beta1], []);
    const b2 = g.constF([beta2], []);
    const omb1 = g.constF([1 - beta1], []);
    const omb2 = g.constF([1 - beta2], []);
    const bc1 = g.o("Sub", [one, g.o("Pow", [g.constF([beta1], [1]), stepNext])]);
    const bc2 = g.o("Sub", [one, g.o("Pow", [g.constF([beta2], [1]), stepNext])]);
    // fold bias corrections into one step size: lr * sqrt(bc2) / bc1
    const lrT = g.o("Div", [g.o("Mul", [lr, g.o("Sqrt", [bc2])]), bc1]);
    const epsC = g.constF([eps], []);
    for (const k of Object.keys(params)) {
      const gk = grads[k]!;
      const m = g.o("Add", [g.o("Mul", [state[`${k}_m`]!, b1]), g.o("Mul", [gk, omb1])], {}, out.state?.[`${k}_m`]);
      const v = g.o("Add", [g.o("Mul", [state[`${k}_v`]!, b2]), g.o("Mul", [g.o("Mul", [gk, gk]), omb2])], {}, out.state?.[`${k}_v`]);
      const upd = g.o("Div", [g.o("Mul", [m, lrT]), g.o("Add", [g.o("Sqrt", [v]), epsC])]);
      g.o("Sub", [params[k]!, upd], {}, out.params?.[k]);
    }
  }
  return { lossSum };
}

function ioDecls(params: TensorDecl[], state: TensorDecl[], suffix: string): ValueInfo[] {
  return [...params, ...state].map((t) => valueInfo(t.name + suffix, "float", t.shape));
}

export function buildModel(specIn: ModelSpec): BuiltModel {
  const spec = ModelSpecSchema.parse(specIn);
  if (spec.kind === "cnn") return buildCnn(spec);
  const { params, state } = declare(spec);
  const D = spec.inputDim;
  const pNames = params.map((p) => p.name);
  const sNames = state.map((s) => s.name);
  const ident = (names: string[]) => Object.fromEntries(names.map((n) => [n, n]));
  const outNames = (names: string[]) => Object.fromEntries(names.map((n) => [n, `${n}_out`]));

  // ---- single step graph
  const gs = new GraphBuilder("s_");
  const { lossSum: ls } = emitStep(gs, spec, "X", "Y", "step", ident(pNames), ident(sNames), {
    step: "step_out",
    params: outNames(pNames),
    state: outNames(sNames),
  }, spec.privacy ? dpStepNoise(gs) : undefined);
  const Bs = gs.o("Cast", [gs.o("Shape", ["X"], { start: 0, end: 1 })], { to: 1 });
  gs.o("Div", [ls, Bs], {}, "loss");
  const stepGraph = gs.graph(
    "rapha_train_step",
    [valueInfo("X", "float", ["B", D]), valueInfo("Y", "float", ["B", 1]), valueInfo("step", "float", [1]), ...ioDecls(params, state, ""), ...(spec.privacy ? dpInputs(params, 1) : [])],
    [valueInfo("loss", "float", [1]), valueInfo("step_out", "float", [1]), ...ioDecls(params, state, "_out")],
  );

  // ---- epoch graph: Loop over mini-batches
  const body = new GraphBuilder("b_");
  const carried = ["step", ...pNames, ...sNames];
  const bodyIn = (n: string) => `body_${n}_in`;
  const bodyOut = (n: string) => `body_${n}_o`;
  // DP: Poisson batches padded to a per-call slot size, one noise row per step (dp.ts)
  const dpSlice = spec.privacy ? dpLoopSlice(body) : undefined;
  const { Xb, Yb } = dpSlice ?? loopBatchSlice(body, spec.batchSize);
  const { lossSum } = emitStep(
    body,
    spec,
    Xb,
    Yb,
    bodyIn("step"),
    Object.fromEntries(pNames.map((n) => [n, bodyIn(n)])),
    Object.fromEntries(sNames.map((n) => [n, bodyIn(n)])),
    {
      step: bodyOut("step"),
      params: Object.fromEntries(pNames.map((n) => [n, bodyOut(n)])),
      state: Object.fromEntries(sNames.map((n) => [n, bodyOut(n)])),
    },
    dpSlice?.noise,
  );
  body.o("Add", [bodyIn("lossacc"), lossSum], {}, bodyOut("lossacc"));
  body.o("Identity", ["body_cond"], {}, "body_cond_o");
  const bodyGraph = body.graph(
    "rapha_epoch_body",
    [
      valueInfo("body_iter", "int64", []),
      valueInfo("body_cond", "bool", []),
      ...carried.map((n) => valueInfo(bodyIn(n), "float")),
      valueInfo(bodyIn("lossacc"), "float"),
    ],
    [valueInfo("body_cond_o", "bool", []), ...carried.map((n) => valueInfo(bodyOut(n), "float")), valueInfo(bodyOut("lossacc"), "float")],
  );
  const ge = new GraphBuilder("e_");
  const condTrue = ge.constB(true);
  const zero = ge.constF([0], [1]);
  const loopOuts = [...carried.map((n) => `${n}_out`), "lossacc_final"];
  ge.op("Loop", ["trips", condTrue, ...carried, zero], { body: bodyGraph }, loopOuts);
  const N = ge.o("Cast", [ge.o("Shape", ["X"], { start: 0, end: 1 })], { to: 1 });
  ge.o("Div", ["lossacc_final", N], {}, "loss");
  const epochGraph = ge.graph(
    "rapha_train_epoch",
    [
      valueInfo("X", "float", ["N", D]),
      valueInfo("Y", "float", ["N", 1]),
      valueInfo("trips", "int64", []),
      valueInfo("step", "float", [1]),
      ...ioDecls(params, state, ""),
      ...(spec.privacy ? dpInputs(params, "trips") : []),
    ],
    [valueInfo("loss", "float", [1]), valueInfo("step_out", "float", [1]), ...ioDecls(params, state, "_out")],
  );

  // ---- inference graph
  const gi = new GraphBuilder("i_");
  const sizes = layerSizes(spec);
  let a = "X";
  for (let l = 0; l < sizes.length - 1; l++) {
    const zl = gi.o("Add", [gi.o("MatMul", [a, `W${l}`]), `b${l}`]);
    a = l < sizes.length - 2 ? gi.o("Relu", [zl]) : zl;
  }
  gi.o("Sigmoid", [a], {}, "prob");
  const infGraph = gi.graph(
    "rapha_inference",
    [valueInfo("X", "float", ["N", D]), ...ioDecls(params, [], "")],
    [valueInfo("prob", "float", ["N", 1])],
  );

  const doc = JSON.stringify(spec);
  return {
    spec,
    params,
    state,
    initialParams: initParams(spec, params),
    trainEpoch: encodeModel(epochGraph, doc),
    trainStep: encodeModel(stepGraph, doc),
    inference: encodeModel(infGraph, doc),
  };
}
