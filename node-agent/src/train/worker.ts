// The training child. It runs inside the sandbox (sandbox.ts) and sees nothing but its inputs:
//  1. self-check before reading any input: every network probe must fail and every planted path
//     (agent home, keys, dataset, host /tmp — given on the command line) must be unreachable
//  2. read one bounded binary frame from stdin: spec, initial weights, feature matrix and labels
//  3. build the graphs from the spec (sdk builder), train, evaluate; write weights + aggregates to stdout
// It never receives a key, a path to data or a record identifier; the agent signs usage itself.
import { connect } from "node:net";
import { openSync, closeSync } from "node:fs";
import { buildModel } from "@rapha/sdk/model/builder";
import { decodeParams, toBase64 } from "@rapha/sdk/model/bundle";
import { trainWithOnnx, predict, binaryMetrics } from "./onnx-trainer.js";
import { FRAME_MAGIC, MAX_HEADER_BYTES, MAX_PAYLOAD_BYTES, payloadBytes, type ChildMessage, type FrameHeader, type ProbeResult, type SelfCheckPlan } from "./protocol.js";

const send = (m: ChildMessage) => process.stdout.write(JSON.stringify(m) + "\n");

export function probeNetwork(host: string, port: number, timeoutMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve("timeout");
    }, timeoutMs);
    s.on("connect", () => {
      clearTimeout(t);
      s.destroy();
      resolve("connected");
    });
    s.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code ?? "error");
    });
  });
}

/** "opened" when the path can be opened for reading; otherwise the errno code (ENOENT inside bwrap). */
export function probeFile(path: string): string {
  try {
    closeSync(openSync(path, "r"));
    return "opened";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "error";
  }
}

async function readFrame(): Promise<{ h: FrameHeader; body: Buffer }> {
  const chunks: Buffer[] = [];
  let got = 0;
  let want = 8 + MAX_HEADER_BYTES; // refined once the header is known
  let h: FrameHeader | undefined;
  let headLen = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(c);
    got += c.length;
    if (!h && got >= 8) {
      const pre = Buffer.concat(chunks);
      if (pre.readUInt32LE(0) !== FRAME_MAGIC) throw new Error("input frame: bad magic");
      headLen = pre.readUInt32LE(4);
      if (headLen > MAX_HEADER_BYTES) throw new Error("input frame: header too large");
      if (got >= 8 + headLen) {
        h = JSON.parse(pre.subarray(8, 8 + headLen).toString("utf8")) as FrameHeader;
        const p = payloadBytes(h);
        if (!(p >= 0 && p <= MAX_PAYLOAD_BYTES)) throw new Error("input frame: payload size out of bounds");
        want = 8 + headLen + p;
      }
    }
    if (got > want) throw new Error("input frame: more bytes than declared");
  }
  if (!h) throw new Error("input frame: truncated header");
  if (got !== want) throw new Error("input frame: truncated payload");
  return { h, body: Buffer.concat(chunks).subarray(8 + headLen) };
}

function f32(body: Buffer, off: number, n: number): Float32Array {
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(body.subarray(off, off + n * 4));
  return out;
}

async function main() {
  const plan = JSON.parse(process.argv[2] ?? "{}") as SelfCheckPlan;
  // 1. self-check
  const network: ProbeResult[] = [];
  for (const p of plan.network ?? []) network.push({ target: `${p.host}:${p.port}`, result: await probeNetwork(p.host, p.port) });
  const files: ProbeResult[] = (plan.files ?? []).map((f) => ({ target: f, result: probeFile(f) }));
  const ok = network.every((r) => r.result !== "connected") && files.every((r) => r.result !== "opened");
  send({ type: "isolation", ok, network, files });
  // 2. input
  const { h, body } = await readFrame();
  const built = buildModel(h.spec);
  let off = 0;
  const take = (n: number) => {
    const a = f32(body, off, n);
    off += n * 4;
    return a;
  };
  const initial = decodeParams(built.params, new Uint8Array(take(h.paramCount).buffer));
  const Xt = take(h.nTrain * h.dim), Yt = take(h.nTrain), Xv = take(h.nVal * h.dim), Yv = take(h.nVal);
  // 3. train + aggregates
  // DP-SGD: the per-epoch loss is a non-private function of the records, so it is not published (docs/PROTOCOL.md)
  const dp = h.spec.kind !== "cnn" && !!h.spec.privacy;
  const res = await trainWithOnnx(h.spec, initial, { X: Xt, Y: Yt, dim: h.dim }, { epochs: h.epochs, threads: h.threads, built, onEpoch: (epoch, loss) => send({ type: "epoch", epoch, epochs: h.epochs, ...(dp ? {} : { loss }) }) });
  const trainLoss = binaryMetrics(await predict(h.spec, res.params, Xt, h.dim, built), Yt).bce;
  let validation: Extract<ChildMessage, { type: "done" }>["validation"];
  if (h.nVal >= 20) {
    const m = binaryMetrics(await predict(h.spec, res.params, Xv, h.dim, built), Yv);
    validation = { n: m.n, bce: m.bce, auc: m.auc, accuracy: m.accuracy, baselineBce: m.baselineBce };
  }
  send({ type: "done", weights: toBase64(res.weights), lossCurve: res.lossCurve, trainLoss, validation, seconds: res.seconds, recordsPerSecond: res.recordsPerSecond, ...(res.privacy ? { privacy: res.privacy } : {}) });
}

main().catch((e: Error) => {
  // messages name the stage and the bound, never a value from the input
  send({ type: "error", message: e.message.slice(0, 300) });
  process.exitCode = 1;
});
