// Model-bundle scanner: digest, size caps, ONNX opset/operator allowlist, no custom domains or
// functions, no external data, graph I/O contract vs the dataset schema, output policy (nothing
// per-record may be a training output), and network-capable imports in any code file.
import { keccak256, toBytes } from "viem";
import { parseBundle, bundleDigest, canonicalJson, type ModelBundle } from "../../../sdk/src/model/bundle.js";
import { decodeModel } from "../../../sdk/src/model/graph.js";
import type { ReasonName } from "../reasons.js";

export const DEFAULT_OPERATOR_ALLOWLIST = [
  "Add", "Sub", "Mul", "Div", "Neg", "Abs", "Sqrt", "Pow", "Exp", "Log", "Reciprocal", "Max", "Min", "Clip",
  "MatMul", "Gemm", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Slice", "Shape", "Cast", "Identity", "Constant",
  "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax",
  "ReduceSum", "ReduceMean", "ReduceMax", "Greater", "Less", "Equal", "Where", "Not", "And", "Or",
  "Loop",
];

export interface ScanLimits {
  maxBundleBytes: number;
  maxFileBytes: number;
  maxNodes: number;
  opsetMin: number;
  opsetMax: number;
  operators: string[];
  allowedOutputKinds: string[];
}

export const DEFAULT_LIMITS: ScanLimits = {
  maxBundleBytes: 50 * 1024 * 1024,
  maxFileBytes: 40 * 1024 * 1024,
  maxNodes: 20000,
  opsetMin: 13,
  opsetMax: 21,
  operators: DEFAULT_OPERATOR_ALLOWLIST,
  allowedOutputKinds: ["weights", "metrics"],
};

export interface Finding {
  code: string;
  file?: string;
  detail: string;
}

export interface ScanReport {
  version: 1;
  ok: boolean;
  reason?: ReasonName;
  bundleDigest: `0x${string}`;
  bundleBytes: number;
  opsets: Record<string, number>;
  operators: string[];
  paramCount: number;
  findings: Finding[];
  limits: Omit<ScanLimits, "operators"> & { operatorsHash: `0x${string}` };
}

export const NETWORK_IMPORT_PATTERNS: [string, RegExp][] = [
  ["python-socket", /^\s*(import|from)\s+(socket|ssl|selectors|asyncio\.streams)\b/m],
  ["python-requests", /^\s*(import|from)\s+(requests|httpx|aiohttp|urllib3?|urllib\.request|http\.client|httplib2|grpc|websocket|websockets|paramiko|ftplib|smtplib|telnetlib|xmlrpc|boto3|botocore|pycurl|socketserver|zmq)\b/m],
  ["python-dynamic-import", /__import__\s*\(|importlib\.import_module\s*\(/],
  ["python-subprocess", /^\s*(import|from)\s+(subprocess|os)\b.*|os\.system\s*\(/m],
  ["js-node-net", /(require\s*\(\s*|from\s+|import\s*\(\s*)["'](node:)?(net|http|https|http2|dgram|tls|dns|child_process|worker_threads)["']/],
  ["js-fetch", /\bfetch\s*\(|XMLHttpRequest|WebSocket\s*\(|navigator\.sendBeacon|EventSource\s*\(/],
  ["js-dynamic", /\beval\s*\(|new\s+Function\s*\(/],
  ["shell-net", /\b(curl|wget|nc|ncat|socat|ssh|scp)\b\s/],
];

interface G {
  node?: { opType?: string | null; domain?: string | null; attribute?: { g?: G | null; graphs?: G[] | null }[] | null }[] | null;
  initializer?: { dataLocation?: number | null; externalData?: unknown[] | null; name?: string | null }[] | null;
}

function walk(g: G, visit: (n: NonNullable<G["node"]>[number]) => void, inits: (i: NonNullable<G["initializer"]>[number]) => void): void {
  for (const i of g.initializer ?? []) inits(i);
  for (const n of g.node ?? []) {
    visit(n);
    for (const a of n.attribute ?? []) {
      if (a.g) walk(a.g, visit, inits);
      for (const sg of a.graphs ?? []) walk(sg, visit, inits);
    }
  }
}

type Dim = number | string | undefined;
function shapeOf(vi: { type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null } | null }): Dim[] | undefined {
  const d = vi.type?.tensorType?.shape?.dim;
  if (!d) return undefined;
  return d.map((x) => (x.dimParam ? x.dimParam : x.dimValue != null ? Number(x.dimValue) : undefined));
}

export function scanBundle(
  bytes: Uint8Array,
  opts: { expectedDigest?: string; featureCount: number; limits?: Partial<ScanLimits> },
): { report: ScanReport; reportHash: `0x${string}`; bundle?: ModelBundle } {
  const L = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
  const findings: Finding[] = [];
  const digest = bundleDigest(bytes);
  const opsets: Record<string, number> = {};
  const ops = new Set<string>();
  let reason: ReasonName | undefined;
  const fail = (r: ReasonName, f: Finding) => {
    findings.push(f);
    reason ??= r;
  };
  let bundle: ModelBundle | undefined;
  let paramCount = 0;

  if (opts.expectedDigest && opts.expectedDigest.toLowerCase() !== digest) fail("DIGEST_MISMATCH", { code: "digest-mismatch", detail: `bundle digest ${digest} != job digest` });
  if (bytes.length > L.maxBundleBytes) fail("SCAN_FAILED", { code: "bundle-too-large", detail: `${bytes.length} > ${L.maxBundleBytes} bytes` });
  if (!reason) {
    try {
      bundle = parseBundle(bytes);
    } catch (e) {
      fail("SCAN_FAILED", { code: "bundle-malformed", detail: (e as Error).message.slice(0, 200) });
    }
  }
  if (bundle) {
    const m = bundle.manifest;
    paramCount = m.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    for (const k of m.outputs) if (!L.allowedOutputKinds.includes(k)) fail("OUTPUT_POLICY", { code: "output-kind", detail: `output kind '${k}' not allowed` });
    if (m.spec.inputDim !== opts.featureCount) fail("SCAN_FAILED", { code: "input-dim", detail: `model expects ${m.spec.inputDim} features, dataset schema has ${opts.featureCount}` });
    for (const f of m.files) {
      const data = bundle.files[f.name]!;
      if (data.length > L.maxFileBytes) fail("SCAN_FAILED", { code: "file-too-large", file: f.name, detail: `${data.length} bytes` });
      if (f.name.endsWith(".onnx")) {
        let model;
        try {
          model = decodeModel(data);
        } catch {
          fail("SCAN_FAILED", { code: "onnx-malformed", file: f.name, detail: "not a valid ONNX ModelProto" });
          continue;
        }
        for (const o of model.opsetImport ?? []) {
          const dom = o.domain || "ai.onnx";
          const v = Number(o.version);
          opsets[dom] = v;
          if (dom !== "ai.onnx") fail("SCAN_FAILED", { code: "custom-domain", file: f.name, detail: `opset domain '${dom}' not allowed` });
          else if (v < L.opsetMin || v > L.opsetMax) fail("SCAN_FAILED", { code: "opset", file: f.name, detail: `opset ${v} outside [${L.opsetMin}, ${L.opsetMax}]` });
        }
        if ((model.functions ?? []).length) fail("SCAN_FAILED", { code: "model-functions", file: f.name, detail: "model-local functions are not allowed" });
        let nodes = 0;
        walk(
          model.graph as G,
          (n) => {
            nodes++;
            if (n.domain && n.domain !== "ai.onnx") fail("SCAN_FAILED", { code: "custom-domain", file: f.name, detail: `node domain '${n.domain}'` });
            ops.add(n.opType ?? "");
            if (!L.operators.includes(n.opType ?? "")) fail("SCAN_FAILED", { code: "operator", file: f.name, detail: `operator '${n.opType}' not on the allowlist` });
          },
          (i) => {
            if (i.dataLocation === 1 || (i.externalData ?? []).length) fail("SCAN_FAILED", { code: "external-data", file: f.name, detail: `initializer '${i.name}' references external data` });
          },
        );
        if (nodes > L.maxNodes) fail("SCAN_FAILED", { code: "graph-too-large", file: f.name, detail: `${nodes} nodes` });
        const g = model.graph!;
        const ins = new Map((g.input ?? []).map((v) => [v.name!, shapeOf(v)]));
        const outs = (g.output ?? []).map((v) => ({ name: v.name!, shape: shapeOf(v) }));
        const role = f.role;
        if (role === "train_epoch" || role === "train_step" || role === "inference") {
          const xs = ins.get("X");
          if (!xs || xs.length !== 2 || xs[1] !== opts.featureCount) fail("SCAN_FAILED", { code: "io-contract", file: f.name, detail: `input X must be [N, ${opts.featureCount}]` });
        }
        if (role === "train_epoch" || role === "train_step") {
          // output policy: only loss, step, params and optimizer state, all of fixed, declared size
          const allowed = new Map<string, number[]>([["loss", [1]], ["step_out", [1]]]);
          for (const t of [...m.params, ...m.state]) allowed.set(`${t.name}_out`, t.shape);
          for (const o of outs) {
            const want = allowed.get(o.name);
            if (!want) {
              fail("OUTPUT_POLICY", { code: "per-record-output", file: f.name, detail: `training output '${o.name}' is not a declared weight/state/loss` });
              continue;
            }
            if (!o.shape || o.shape.length !== want.length || o.shape.some((d, i) => d !== want[i])) fail("OUTPUT_POLICY", { code: "per-record-output", file: f.name, detail: `training output '${o.name}' has a dynamic or undeclared shape` });
          }
          for (const want of allowed.keys()) if (!outs.some((o) => o.name === want)) fail("SCAN_FAILED", { code: "io-contract", file: f.name, detail: `missing output '${want}'` });
        }
        if (role === "inference" && outs.some((o) => o.name !== "prob")) fail("SCAN_FAILED", { code: "io-contract", file: f.name, detail: "inference graph outputs must be exactly [prob]" });
      } else if (f.role === "code" || /\.(py|js|mjs|cjs|ts|sh|r|ipynb)$/i.test(f.name)) {
        const text = new TextDecoder("utf-8", { fatal: false }).decode(data);
        for (const [code, re] of NETWORK_IMPORT_PATTERNS) if (re.test(text)) fail("SCAN_FAILED", { code: `network-capable-code:${code}`, file: f.name, detail: "code references a network-capable module or API" });
      }
    }
  }
  const { operators, ...rest } = L;
  const report: ScanReport = {
    version: 1,
    ok: findings.length === 0,
    reason,
    bundleDigest: digest,
    bundleBytes: bytes.length,
    opsets,
    operators: [...ops].sort(),
    paramCount,
    findings,
    limits: { ...rest, operatorsHash: keccak256(toBytes(operators.join(","))) },
  };
  return { report, reportHash: keccak256(toBytes(canonicalJson(report))), bundle: findings.length === 0 ? bundle : undefined };
}
