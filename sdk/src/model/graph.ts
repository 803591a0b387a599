// Minimal ONNX graph-construction helpers (browser-safe: only onnx-proto / protobufjs).
import onnxProto from "onnx-proto";

export const onnx = (onnxProto as unknown as { onnx: typeof import("onnx-proto").onnx }).onnx;
export type NodeProto = import("onnx-proto").onnx.INodeProto;
export type GraphProto = import("onnx-proto").onnx.IGraphProto;
export type ValueInfo = import("onnx-proto").onnx.IValueInfoProto;

export const OPSET = 17;
export const IR_VERSION = 8;

export const DT = { float: 1, int64: 7, bool: 9 } as const;
export type DType = keyof typeof DT;

type Attr = number | number[] | string | GraphProto | { t: "float"; v: number } | { t: "floats"; v: number[] };

function attribute(name: string, v: Attr): import("onnx-proto").onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === "number") return { name, type: A.INT, i: v };
  if (typeof v === "string") return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  if ("t" in v && v.t === "float") return { name, type: A.FLOAT, f: v.v };
  if ("t" in v && v.t === "floats") return { name, type: A.FLOATS, floats: v.v };
  return { name, type: A.GRAPH, g: v as GraphProto };
}

export function valueInfo(name: string, dtype: DType, shape?: (number | string)[]): ValueInfo {
  const tensorType: import("onnx-proto").onnx.TypeProto.ITensor = { elemType: DT[dtype] };
  if (shape) tensorType.shape = { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) };
  return { name, type: { tensorType } };
}

/** A graph under construction. Constants are emitted as Constant nodes so they work in subgraphs too. */
export class GraphBuilder {
  nodes: NodeProto[] = [];
  private n = 0;
  constructor(readonly prefix: string) {}

  fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.n++}`;
  }

  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs?: string[] | number): string[] {
    const outs = Array.isArray(outputs)
      ? outputs
      : Array.from({ length: outputs ?? 1 }, () => this.fresh(type.toLowerCase()));
    this.nodes.push({
      opType: type,
      name: this.fresh(`n_${type}`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Single-output shortcut. */
  o(type: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    return this.op(type, inputs, attrs, output ? [output] : 1)[0]!;
  }

  constF(values: number[], dims: number[] = [values.length]): string {
    const out = this.fresh("cf");
    this.nodes.push({
      opType: "Constant",
      name: this.fresh("n_Constant"),
      input: [],
      output: [out],
      attribute: [{ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims, dataType: DT.float, floatData: values } }],
    });
    return out;
  }

  constI(values: number[], dims: number[] = [values.length]): string {
    const out = this.fresh("ci");
    this.nodes.push({
      opType: "Constant",
      name: this.fresh("n_Constant"),
      input: [],
      output: [out],
      attribute: [{ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims, dataType: DT.int64, int64Data: values } }],
    });
    return out;
  }

  constB(value: boolean): string {
    const out = this.fresh("cb");
    this.nodes.push({
      opType: "Constant",
      name: this.fresh("n_Constant"),
      input: [],
      output: [out],
      attribute: [{ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [], dataType: DT.bool, int32Data: [value ? 1 : 0] } }],
    });
    return out;
  }

  graph(name: string, inputs: ValueInfo[], outputs: ValueInfo[]): GraphProto {
    return { name, node: this.nodes, input: inputs, output: outputs, initializer: [] };
  }
}

export function encodeModel(graph: GraphProto, docString: string): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: "rapha-sdk",
    producerVersion: "0.1.0",
    docString,
    opsetImport: [{ domain: "", version: OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModel(bytes: Uint8Array): import("onnx-proto").onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
