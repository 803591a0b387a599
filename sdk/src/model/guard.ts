// Defence in depth for graphs the hospital built itself: before any ONNX runtime sees a model, prove
// that no tensor anywhere (initializer, sparse initializer, Constant/attribute tensors, subgraphs)
// points at external data, that only the default domain and the builder's operators occur, and
// that the model declares no local functions. onnxruntime resolves external_data paths against the
// working directory, which is how a v1 bundle read hospital files; the builder never emits one.
import { decodeModel, onnx } from "./graph.js";
import { CNN_OPERATORS } from "./cnn.js";

/** Every operator the tabular families (logreg, MLP) emit. */
export const TABULAR_OPERATORS: readonly string[] = [
  "Add", "Sub", "Mul", "Div", "Sqrt", "Pow", "MatMul", "Transpose", "Reshape", "Slice", "Shape", "Cast",
  "Identity", "Constant", "Relu", "Sigmoid", "Softplus", "ReduceSum", "Greater", "Loop",
];

/** Every operator buildModel emits, over all families. Anything else in a built graph means the builder was subverted. */
export const BUILDER_OPERATORS: readonly string[] = [...TABULAR_OPERATORS, ...CNN_OPERATORS];

type P = typeof import("onnx-proto").onnx;
type Tensor = import("onnx-proto").onnx.ITensorProto;
type Sparse = import("onnx-proto").onnx.ISparseTensorProto;
type Graph = import("onnx-proto").onnx.IGraphProto;

function tensorIsExternal(t: Tensor | null | undefined): boolean {
  return !!t && (t.dataLocation === (onnx as P).TensorProto.DataLocation.EXTERNAL || (t.externalData ?? []).length > 0);
}

function sparseIsExternal(s: Sparse | null | undefined): boolean {
  return !!s && (tensorIsExternal(s.values) || tensorIsExternal(s.indices));
}

/** Throws when a built model is not safe to hand to onnxruntime; returns the operators seen. */
export function assertBuiltModelSafe(bytes: Uint8Array, allowed: readonly string[] = BUILDER_OPERATORS): string[] {
  const m = decodeModel(bytes);
  if ((m.functions ?? []).length) throw new Error("built model declares local functions");
  for (const o of m.opsetImport ?? []) if (o.domain && o.domain !== "ai.onnx") throw new Error(`built model imports opset domain '${o.domain}'`);
  if (!(m.opsetImport ?? []).length) throw new Error("built model has no opset_import");
  const seen = new Set<string>();
  const visit = (g: Graph | null | undefined, depth: number): void => {
    if (!g) return;
    if (depth > 4) throw new Error("built model nests subgraphs deeper than the builder does");
    for (const t of g.initializer ?? []) if (tensorIsExternal(t)) throw new Error(`initializer '${t.name}' references external data`);
    for (const s of g.sparseInitializer ?? []) if (sparseIsExternal(s)) throw new Error("a sparse initializer references external data");
    for (const n of g.node ?? []) {
      if (n.domain && n.domain !== "ai.onnx") throw new Error(`node domain '${n.domain}' is not the default domain`);
      if (!allowed.includes(n.opType ?? "")) throw new Error(`operator '${n.opType}' is not one the builder emits`);
      seen.add(n.opType!);
      for (const a of n.attribute ?? []) {
        if (tensorIsExternal(a.t) || (a.tensors ?? []).some(tensorIsExternal)) throw new Error(`attribute '${a.name}' of a ${n.opType} node references external data`);
        if (sparseIsExternal(a.sparseTensor) || (a.sparseTensors ?? []).some(sparseIsExternal)) throw new Error(`attribute '${a.name}' of a ${n.opType} node references external data`);
        visit(a.g, depth + 1);
        for (const sg of a.graphs ?? []) visit(sg, depth + 1);
      }
    }
  };
  visit(m.graph, 0);
  return [...seen].sort();
}
