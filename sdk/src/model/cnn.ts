// A small image classifier (convolution → ReLU → 2×2 max-pool, repeated; then dense layers; BCE loss;
// SGD or Adam) as ONNX graphs, with the same I/O contract as the MLP (builder.ts) so the agent's
// trainer runs it unchanged:
//   train_epoch inputs:  X [N, S*S] f32 (row-major pixels in [0,1]), Y [N,1], trips int64 [], step [1], <params>, <state>
//   train_epoch outputs: loss [1] (mean BCE over the epoch), step_out [1], <param>_out..., <state>_out...
//   train_step:          X [B, S*S], Y [B,1], step, params, state → loss, step_out, params_out, state_out
//   evaluate:            X [N, S*S], Y [N,1], params → loss [1], accuracy [1]
//   inference:           X [N, S*S], params → prob [N,1]
// ONNX has no autodiff, so the backward pass is written out: a convolution's weight gradient is itself
// a convolution (input and output-gradient with batch and channel axes swapped), its input gradient a
// ConvTranspose with the same weights, and max-pool routes the gradient to the argmax its Indices output
// names (exact even where a window holds equal values). Nothing per-record is ever a training output.
import { z } from "zod";
import { GraphBuilder, valueInfo, encodeModel, type ValueInfo } from "./graph.js";
import { loopBatchSlice, mulberry32, optimizerState, OptimizerSchema, type TensorDecl } from "./family.js";

/** Operators the CNN graphs use beyond the MLP's (for the built-model guard's allowlist). */
export const CNN_OPERATORS: readonly string[] = [
  "Conv", "ConvTranspose", "MaxPool", "Flatten", "ScatterElements", "ConstantOfShape", "Equal", "ReduceMean",
];

/** Every convolution is k×k (k = 3 or 5) with "same" padding, followed by ReLU and a 2×2 stride-2 max-pool. */
export const CnnSpecSchema = z
  .strictObject({
    kind: z.literal("cnn"),
    /** square input side S in pixels (the loader resizes every image to S×S) */
    inputSize: z.number().int().min(4).max(256),
    /** output channels of each convolution block (1-3 blocks) */
    channels: z.array(z.number().int().min(1).max(64)).min(1).max(3),
    /** convolution kernel side (odd, so "same" padding is symmetric) */
    kernel: z.union([z.literal(3), z.literal(5)]).default(3),
    /** width of the hidden dense layer after the last block; 0 = straight to the output */
    hidden: z.number().int().min(0).max(512).default(32),
    loss: z.literal("bce").default("bce"),
    optimizer: OptimizerSchema,
    l2: z.number().min(0).max(10).default(0),
    batchSize: z.number().int().min(1).max(4096).default(32),
    epochs: z.number().int().min(1).max(1000).default(10),
    seed: z.number().int().min(0).max(0xffffffff).default(1),
  })
  .refine((s) => s.inputSize % 2 ** s.channels.length === 0, {
    message: "inputSize must be divisible by 2^(number of convolution blocks): each block halves it",
    path: ["inputSize"],
  });
export type CnnSpec = z.input<typeof CnnSpecSchema>;
export type CnnSpecParsed = z.output<typeof CnnSpecSchema>;

export interface BuiltCnn {
  spec: CnnSpecParsed;
  /** flattened input width the graphs take: inputSize² */
  inputDim: number;
  params: TensorDecl[];
  state: TensorDecl[];
  initialParams: Record<string, Float32Array>;
  trainEpoch: Uint8Array;
  trainStep: Uint8Array;
  evaluate: Uint8Array;
  inference: Uint8Array;
}

/** "Same" padding of a k×k kernel (stride 1): (k−1)/2 on every side. */
const padsOf = (k: number) => Array(4).fill((k - 1) / 2) as number[];

/** Side length after every block, and the flattened width entering the dense layers. */
function geometry(spec: CnnSpecParsed): { sides: number[]; flat: number } {
  const sides = spec.channels.map((_, l) => spec.inputSize / 2 ** l);
  const last = spec.inputSize / 2 ** spec.channels.length;
  return { sides, flat: spec.channels.at(-1)! * last * last };
}

function denseSizes(spec: CnnSpecParsed): number[] {
  const { flat } = geometry(spec);
  return spec.hidden > 0 ? [flat, spec.hidden, 1] : [flat, 1];
}

/** Trainable tensors in bundle order: conv weights/biases per block, then the dense layers. */
export function declareCnn(spec: CnnSpecParsed): { params: TensorDecl[]; state: TensorDecl[] } {
  const params: TensorDecl[] = [];
  let cin = 1;
  spec.channels.forEach((f, l) => {
    params.push({ name: `K${l}`, shape: [f, cin, spec.kernel, spec.kernel] }, { name: `c${l}`, shape: [f] });
    cin = f;
  });
  const sizes = denseSizes(spec);
  for (let l = 0; l < sizes.length - 1; l++) {
    params.push({ name: `W${l}`, shape: [sizes[l]!, sizes[l + 1]!] }, { name: `b${l}`, shape: [sizes[l + 1]!] });
  }
  return { params, state: optimizerState(params, spec.optimizer.type) };
}

/** He-uniform weights (fan-in = inputs per output unit), zero biases; deterministic in spec.seed. */
export function initCnnParams(spec: CnnSpecParsed, params: TensorDecl[]): Record<string, Float32Array> {
  const rnd = mulberry32(spec.seed);
  const out: Record<string, Float32Array> = {};
  for (const p of params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    if (p.name.startsWith("K") || p.name.startsWith("W")) {
      const fanIn = p.name.startsWith("K") ? p.shape[1]! * spec.kernel * spec.kernel : p.shape[0]!;
      const lim = Math.sqrt(6 / fanIn);
      for (let i = 0; i < n; i++) a[i] = (rnd() * 2 - 1) * lim;
    }
    out[p.name] = a;
  }
  return out;
}

interface Forward {
  /** input of each conv block, [N,C,H,W] */
  blockIn: string[];
  /** conv pre-activations per block */
  conv: string[];
  /** max-pool argmax indices per block (flat over the whole tensor, as ONNX defines them) */
  poolIdx: string[];
  /** ReLU outputs per block (only their shapes are needed backward) */
  relu: string[];
  /** output of the last block, before flattening */
  lastPool: string;
  /** dense-layer inputs: the flattened features then each hidden activation */
  denseIn: string[];
  /** dense pre-activations */
  densePre: string[];
  logit: string;
}

function emitForward(g: GraphBuilder, spec: CnnSpecParsed, X: string, p: (name: string) => string): Forward {
  const S = spec.inputSize;
  let a = g.o("Reshape", [X, g.constI([-1, 1, S, S])]);
  const f: Forward = { blockIn: [], conv: [], poolIdx: [], relu: [], lastPool: a, denseIn: [], densePre: [], logit: "" };
  spec.channels.forEach((_, l) => {
    f.blockIn.push(a);
    const z = g.o("Conv", [a, p(`K${l}`), p(`c${l}`)], { kernel_shape: [spec.kernel, spec.kernel], pads: padsOf(spec.kernel) });
    const r = g.o("Relu", [z]);
    const [pooled, idx] = g.op("MaxPool", [r], { kernel_shape: [2, 2], strides: [2, 2] }, 2) as [string, string];
    f.conv.push(z);
    f.relu.push(r);
    f.poolIdx.push(idx);
    a = pooled;
  });
  f.lastPool = a;
  let h = g.o("Flatten", [a], { axis: 1 });
  const L = denseSizes(spec).length - 1;
  for (let l = 0; l < L; l++) {
    f.denseIn.push(h);
    const z = g.o("Add", [g.o("MatMul", [h, p(`W${l}`)]), p(`b${l}`)]);
    f.densePre.push(z);
    if (l < L - 1) h = g.o("Relu", [z]);
  }
  f.logit = f.densePre[L - 1]!;
  return f;
}

/** Sum over the batch of BCE-with-logits, as [1]: softplus(z) − z·y is stable for any z. */
function emitLossSum(g: GraphBuilder, Z: string, Y: string): string {
  const perRec = g.o("Sub", [g.o("Softplus", [Z]), g.o("Mul", [Z, Y])]);
  return g.o("Reshape", [g.o("ReduceSum", [perRec], { keepdims: 0 }), g.constI([1])]);
}

function batchSizeF(g: GraphBuilder, X: string): string {
  return g.o("Cast", [g.o("Shape", [X], { start: 0, end: 1 })], { to: 1 });
}

function emitGradients(g: GraphBuilder, spec: CnnSpecParsed, f: Forward, Y: string, B: string, p: (name: string) => string): Record<string, string> {
  const grads: Record<string, string> = {};
  const zero = g.constF([0], []);
  const reluMask = (pre: string) => g.o("Cast", [g.o("Greater", [pre, zero])], { to: 1 });
  // dense layers, as in the MLP
  let dZ = g.o("Div", [g.o("Sub", [g.o("Sigmoid", [f.logit]), Y]), B]);
  const L = f.densePre.length;
  for (let l = L - 1; l >= 0; l--) {
    grads[`W${l}`] = g.o("MatMul", [g.o("Transpose", [f.denseIn[l]!], { perm: [1, 0] }), dZ]);
    grads[`b${l}`] = g.o("ReduceSum", [dZ, g.constI([0])], { keepdims: 0 });
    const dIn = g.o("MatMul", [dZ, g.o("Transpose", [p(`W${l}`)], { perm: [1, 0] })]);
    dZ = l > 0 ? g.o("Mul", [dIn, reluMask(f.densePre[l - 1]!)]) : dIn;
  }
  // back into the last block's pooled output
  let dPool = g.o("Reshape", [dZ, g.o("Shape", [f.lastPool])]);
  const swapNC = { perm: [1, 0, 2, 3] };
  for (let l = spec.channels.length - 1; l >= 0; l--) {
    // max-pool: scatter each window's gradient onto the element its argmax index names
    const reluShape = g.o("Shape", [f.relu[l]!]);
    const flatZeros = g.o("Reshape", [g.o("ConstantOfShape", [reluShape]), g.constI([-1])]);
    const scattered = g.o("ScatterElements", [flatZeros, g.o("Reshape", [f.poolIdx[l]!, g.constI([-1])]), g.o("Reshape", [dPool, g.constI([-1])])], { axis: 0 });
    const dConv = g.o("Mul", [g.o("Reshape", [scattered, reluShape]), reluMask(f.conv[l]!)]);
    // dK[f,c,i,j] = Σ_n Σ_yx dConv[n,f,y,x]·in[n,c,y+i,x+j]: a convolution of in^T by dConv^T
    const dKt = g.o("Conv", [g.o("Transpose", [f.blockIn[l]!], swapNC), g.o("Transpose", [dConv], swapNC)], { pads: padsOf(spec.kernel) });
    grads[`K${l}`] = g.o("Transpose", [dKt], swapNC);
    grads[`c${l}`] = g.o("ReduceSum", [dConv, g.constI([0, 2, 3])], { keepdims: 0 });
    if (l > 0) dPool = g.o("ConvTranspose", [dConv, p(`K${l}`)], { kernel_shape: [spec.kernel, spec.kernel], pads: padsOf(spec.kernel) });
  }
  if (spec.l2 > 0) {
    for (const k of Object.keys(grads)) {
      if (k.startsWith("K") || k.startsWith("W")) grads[k] = g.o("Add", [grads[k]!, g.o("Mul", [p(k), g.constF([spec.l2], [])])]);
    }
  }
  return grads;
}

/** One mini-batch: forward, backward, optimiser update. Returns the batch's summed loss. */
function emitStep(
  g: GraphBuilder,
  spec: CnnSpecParsed,
  pNames: string[],
  io: { X: string; Y: string; step: string; p: (n: string) => string; s: (n: string) => string },
  out: { step?: string; p: (n: string) => string | undefined; s: (n: string) => string | undefined },
): { lossSum: string } {
  const f = emitForward(g, spec, io.X, io.p);
  const lossSum = emitLossSum(g, f.logit, io.Y);
  const grads = emitGradients(g, spec, f, io.Y, batchSizeF(g, io.X), io.p);
  const one = g.constF([1], [1]);
  const stepNext = g.o("Add", [io.step, one], {}, out.step);
  const lr = g.constF([spec.optimizer.lr], []);
  if (spec.optimizer.type === "sgd") {
    for (const k of pNames) g.o("Sub", [io.p(k), g.o("Mul", [grads[k]!, lr])], {}, out.p(k));
    return { lossSum };
  }
  const { beta1, beta2, eps } = spec.optimizer;
  const bc1 = g.o("Sub", [one, g.o("Pow", [g.constF([beta1], [1]), stepNext])]);
  const bc2 = g.o("Sub", [one, g.o("Pow", [g.constF([beta2], [1]), stepNext])]);
  // bias corrections folded into one step size: lr·√bc2 / bc1
  const lrT = g.o("Div", [g.o("Mul", [lr, g.o("Sqrt", [bc2])]), bc1]);
  for (const k of pNames) {
    const gk = grads[k]!;
    const m = g.o("Add", [g.o("Mul", [io.s(`${k}_m`), g.constF([beta1], [])]), g.o("Mul", [gk, g.constF([1 - beta1], [])])], {}, out.s(`${k}_m`));
    const v = g.o("Add", [g.o("Mul", [io.s(`${k}_v`), g.constF([beta2], [])]), g.o("Mul", [g.o("Mul", [gk, gk]), g.constF([1 - beta2], [])])], {}, out.s(`${k}_v`));
    const upd = g.o("Div", [g.o("Mul", [m, lrT]), g.o("Add", [g.o("Sqrt", [v]), g.constF([eps], [])])]);
    g.o("Sub", [io.p(k), upd], {}, out.p(k));
  }
  return { lossSum };
}

function decls(ts: TensorDecl[], suffix: string): ValueInfo[] {
  return ts.map((t) => valueInfo(t.name + suffix, "float", t.shape));
}

/** Builds the CNN's training-epoch, training-step, evaluation and inference graphs. */
export function buildCnn(specIn: CnnSpec): BuiltCnn {
  const spec = CnnSpecSchema.parse(specIn);
  const { params, state } = declareCnn(spec);
  const D = spec.inputSize * spec.inputSize;
  const pNames = params.map((t) => t.name);
  const sNames = state.map((t) => t.name);
  const same = (n: string) => n;
  const suffixed = (n: string) => `${n}_out`;
  const doc = JSON.stringify(spec);
  const X = valueInfo("X", "float", ["N", D]);
  const Y = valueInfo("Y", "float", ["N", 1]);

  // ---- one mini-batch
  const gs = new GraphBuilder("s_");
  const { lossSum: ls } = emitStep(gs, spec, pNames, { X: "X", Y: "Y", step: "step", p: same, s: same }, { step: "step_out", p: suffixed, s: suffixed });
  gs.o("Div", [ls, batchSizeF(gs, "X")], {}, "loss");
  const stepGraph = gs.graph(
    "rapha_cnn_train_step",
    [X, Y, valueInfo("step", "float", [1]), ...decls(params, ""), ...decls(state, "")],
    [valueInfo("loss", "float", [1]), valueInfo("step_out", "float", [1]), ...decls(params, "_out"), ...decls(state, "_out")],
  );

  // ---- one epoch: a Loop over mini-batches (slice [iter·B, iter·B+B) of X and Y per trip)
  const body = new GraphBuilder("b_");
  const carried = ["step", ...pNames, ...sNames];
  const bIn = (n: string) => `body_${n}_in`;
  const bOut = (n: string) => `body_${n}_o`;
  const { Xb, Yb } = loopBatchSlice(body, spec.batchSize);
  const { lossSum } = emitStep(body, spec, pNames, { X: Xb, Y: Yb, step: bIn("step"), p: bIn, s: bIn }, { step: bOut("step"), p: bOut, s: bOut });
  body.o("Add", [bIn("lossacc"), lossSum], {}, bOut("lossacc"));
  body.o("Identity", ["body_cond"], {}, "body_cond_o");
  const bodyGraph = body.graph(
    "rapha_cnn_epoch_body",
    [valueInfo("body_iter", "int64", []), valueInfo("body_cond", "bool", []), ...carried.map((n) => valueInfo(bIn(n), "float")), valueInfo(bIn("lossacc"), "float")],
    [valueInfo("body_cond_o", "bool", []), ...carried.map((n) => valueInfo(bOut(n), "float")), valueInfo(bOut("lossacc"), "float")],
  );
  const ge = new GraphBuilder("e_");
  ge.op("Loop", ["trips", ge.constB(true), ...carried, ge.constF([0], [1])], { body: bodyGraph }, [...carried.map(suffixed), "lossacc_final"]);
  ge.o("Div", ["lossacc_final", batchSizeF(ge, "X")], {}, "loss");
  const epochGraph = ge.graph(
    "rapha_cnn_train_epoch",
    [X, Y, valueInfo("trips", "int64", []), valueInfo("step", "float", [1]), ...decls(params, ""), ...decls(state, "")],
    [valueInfo("loss", "float", [1]), valueInfo("step_out", "float", [1]), ...decls(params, "_out"), ...decls(state, "_out")],
  );

  // ---- evaluation: mean loss and accuracy at threshold 0.5 (logit > 0)
  const gv = new GraphBuilder("v_");
  const fv = emitForward(gv, spec, "X", same);
  gv.o("Div", [emitLossSum(gv, fv.logit, "Y"), batchSizeF(gv, "X")], {}, "loss");
  const predicted = gv.o("Cast", [gv.o("Greater", [fv.logit, gv.constF([0], [])])], { to: 1 });
  const correct = gv.o("Cast", [gv.o("Equal", [predicted, "Y"])], { to: 1 });
  gv.o("Reshape", [gv.o("ReduceMean", [correct], { keepdims: 0 }), gv.constI([1])], {}, "accuracy");
  const evalGraph = gv.graph("rapha_cnn_evaluate", [X, Y, ...decls(params, "")], [valueInfo("loss", "float", [1]), valueInfo("accuracy", "float", [1])]);

  // ---- inference
  const gi = new GraphBuilder("i_");
  gi.o("Sigmoid", [emitForward(gi, spec, "X", same).logit], {}, "prob");
  const infGraph = gi.graph("rapha_cnn_inference", [X, ...decls(params, "")], [valueInfo("prob", "float", ["N", 1])]);

  return {
    spec,
    inputDim: D,
    params,
    state,
    initialParams: initCnnParams(spec, params),
    trainEpoch: encodeModel(epochGraph, doc),
    trainStep: encodeModel(stepGraph, doc),
    evaluate: encodeModel(evalGraph, doc),
    inference: encodeModel(infGraph, doc),
  };
}
