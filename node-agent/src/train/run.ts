// Parent side: spawns the training child under the isolation prefix, relays structured progress.
import { spawn } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { createServer, type Server } from "node:net";
import { planIsolation, type IsolationPlan } from "./isolation.js";
import type { ChildMessage, TrainJobSpec } from "./protocol.js";

export interface TrainOutcome {
  isolation: IsolationPlan & { verified: boolean; probes: { target: string; result: string }[] };
  counted: Extract<ChildMessage, { type: "counted" }>;
  lossCurve: number[];
  done?: Extract<ChildMessage, { type: "done" }>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** A listening socket on the host side that the child must fail to reach. */
async function canary(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on("error", () => {});
    s.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

export async function runTraining(
  spec: Omit<TrainJobSpec, "probes" | "isolationMode"> & { extraProbes?: { host: string; port: number }[] },
  opts: { allowUnisolated?: boolean; unshareBin?: string; onMessage?: (m: ChildMessage) => void; workerArgs?: string[] } = {},
): Promise<TrainOutcome> {
  const plan = planIsolation(opts.allowUnisolated ?? false, opts.unshareBin);
  const { server, port } = await canary();
  try {
    const full: TrainJobSpec = { ...spec, probes: [{ host: "127.0.0.1", port }, ...(spec.extraProbes ?? [])], isolationMode: plan.mode };
    mkdirSync(spec.outDir, { recursive: true });
    const specPath = join(spec.outDir, "train-spec.json");
    writeFileSync(specPath, JSON.stringify(full), { mode: 0o600 });
    const worker = join(here, "worker.ts");
    const tsx = pathToFileURL(createRequire(join(here, "run.ts")).resolve("tsx")).href;
    const cmd = [...plan.prefix, process.execPath, "--import", tsx, ...(opts.workerArgs ?? []), worker, specPath];
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "", NODE_ENV: "production" } });
    let isolation: TrainOutcome["isolation"] | undefined;
    let counted: TrainOutcome["counted"] | undefined;
    let done: TrainOutcome["done"] | undefined;
    let error: string | undefined;
    const lossCurve: number[] = [];
    let buf = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let m: ChildMessage;
        try {
          m = JSON.parse(line);
        } catch {
          continue; // not protocol output; ignored (never logged: could be anything)
        }
        if (m.type === "isolation") isolation = { ...plan, verified: m.ok, probes: m.probes };
        else if (m.type === "counted") counted = m;
        else if (m.type === "epoch") lossCurve.push(m.loss);
        else if (m.type === "done") done = m;
        else if (m.type === "error") error = m.message;
        opts.onMessage?.(m);
      }
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    const code: number = await new Promise((r) => child.on("close", (c) => r(c ?? 1)));
    if (error) throw new Error(`training child failed: ${error}`);
    if (code !== 0 || !isolation || !counted || (!done && spec.mode !== "count")) throw new Error(`training child exited ${code} without a result${stderr ? ` (stderr tail: ${stderr.split("\n").slice(-3).join(" | ")})` : ""}`);
    if (!isolation.verified && plan.mode !== "none-operator-opt-out") throw new Error("isolation not verified");
    return { isolation, counted, lossCurve, done };
  } finally {
    server.close();
  }
}

/** Runs a tiny script under the isolation prefix that tries to connect to host:port; returns the outcome. */
export async function probeFromIsolatedChild(host: string, port: number, opts: { allowUnisolated?: boolean; unshareBin?: string } = {}): Promise<{ mode: string; result: string }> {
  const plan = planIsolation(opts.allowUnisolated ?? false, opts.unshareBin);
  const code = `const s=require("node:net").connect(${port},${JSON.stringify(host)});const t=setTimeout(()=>{console.log("timeout");process.exit(0)},2000);s.on("connect",()=>{console.log("connected");process.exit(0)});s.on("error",e=>{console.log(e.code||"error");process.exit(0)})`;
  const cmd = [...plan.prefix, process.execPath, "-e", code];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.on("close", r));
  return { mode: plan.mode, result: out.trim() };
}
