// Child processes of the demo: each runs in its own process group (detached), its output goes to a
// log file, and stopAll() ends every group it started (SIGTERM, then SIGKILL after a grace period).
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";

export const ROOT = new URL("../../", import.meta.url).pathname;

export interface Proc { name: string; child: ChildProcess; log: string; exited: Promise<number | null>; tail: () => string }
const started: Proc[] = [];

export function start(name: string, cmd: string, args: string[], o: { log: string; env?: Record<string, string>; onLine?: (line: string) => void }): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...o.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const out = createWriteStream(o.log);
  let tail = "";
  let partial = "";
  const keep = (b: Buffer) => {
    out.write(b);
    tail = (tail + b.toString()).slice(-3000);
    if (o.onLine) {
      const lines = (partial + b.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) o.onLine(l);
    }
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((r) => child.on("exit", (code, sig) => r(code ?? (sig ? 128 : null))));
  const p: Proc = { name, child, log: o.log, exited, tail: () => tail };
  started.push(p);
  return p;
}

/** Runs a command to completion (own process group too, so Ctrl-C during setup leaves nothing). */
export async function run(name: string, cmd: string, args: string[], o: { log: string; env?: Record<string, string> }): Promise<string> {
  let stdout = "";
  const p = start(name, cmd, args, o);
  p.child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  const code = await p.exited;
  if (code !== 0) throw new Error(`${name} failed (exit ${code}); log: ${o.log}\n${p.tail()}`);
  return stdout;
}

function alive(pid: number) {
  try { process.kill(-pid, 0); return true; } catch { return false; }
}

/** Stops every process group this module started, newest first. */
export async function stopAll(graceMs = 5000): Promise<void> {
  const live = started.filter((p) => p.child.pid && alive(p.child.pid)).reverse();
  for (const p of live) { try { process.kill(-p.child.pid!, "SIGTERM"); } catch { /* gone */ } }
  const t0 = Date.now();
  while (Date.now() - t0 < graceMs && live.some((p) => alive(p.child.pid!))) await new Promise((r) => setTimeout(r, 100));
  for (const p of live) if (alive(p.child.pid!)) { try { process.kill(-p.child.pid!, "SIGKILL"); } catch { /* gone */ } }
}

/** Last resort on process exit: synchronous SIGKILL of every group still alive. */
export function killAllSync() {
  for (const p of started) if (p.child.pid && alive(p.child.pid)) { try { process.kill(-p.child.pid, "SIGKILL"); } catch { /* gone */ } }
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); });
    s.on("error", rej);
  });
}

export async function waitFor<T>(what: string, f: () => Promise<T | undefined | null | false>, ms: number, died?: Proc): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < ms) {
    if (died && died.child.exitCode !== null) throw new Error(`${died.name} exited (${died.child.exitCode}) while waiting for ${what}; log: ${died.log}\n${died.tail()}`);
    try { const v = await f(); if (v) return v; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}
