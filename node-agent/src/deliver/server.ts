// The agent's HTTP surface (node:http):
//   GET  /healthz                 liveness + summary
//   GET  /metrics                 Prometheus (prom-client)
//   GET  /auth/nonce              SIWE nonce (single use, 5 min)
//   POST /auth/verify             {message, signature} -> {token} (Sign-In with Ethereum)
//   GET  /jobs/:id/result         encrypted weights + receipt; only the job's researcher (Bearer token)
//   GET  /jobs/:id/receipt        receipt JSON (hashes and aggregate metrics only; public, its hash is on chain)
// Responses never carry record values: results are ciphertext to the researcher's key.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { SiweMessage, generateNonce } from "siwe";
import type { Registry } from "prom-client";
import type { Logger } from "pino";

export interface ResultStore {
  /** returns null if unknown */
  researcherOf(jobId: string): string | null;
  result(jobId: string): unknown | null;
  receipt(jobId: string): unknown | null;
}

export interface ServerOptions {
  domain: string; // SIWE domain the agent accepts (e.g. "hospital-a.example:8787")
  chainId: number;
  store: ResultStore;
  registry?: Registry;
  health?: () => Record<string, unknown>;
  log?: Logger;
  sessionTtlMs?: number;
  /** origins allowed by CORS (the dApp's); "*" allows any (safe here: auth is a bearer token, never a cookie) */
  corsOrigins?: string[];
}

export class AgentHttpServer {
  private nonces = new Map<string, number>();
  private sessions = new Map<string, { address: string; exp: number }>();
  server: Server;
  constructor(readonly o: ServerOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        this.o.log?.error({ err: e.message }, "http handler error");
        this.send(res, 500, { error: "internal error" });
      });
    });
  }

  listen(port: number, host = "127.0.0.1"): Promise<number> {
    return new Promise((r) => this.server.listen(port, host, () => r((this.server.address() as { port: number }).port)));
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private cors(req: IncomingMessage): Record<string, string> {
    const allowed = this.o.corsOrigins ?? ["*"];
    const origin = req.headers.origin;
    if (!origin) return {};
    if (allowed.includes("*")) return { "access-control-allow-origin": "*" };
    return allowed.includes(origin) ? { "access-control-allow-origin": origin, vary: "Origin" } : {};
  }

  private send(res: ServerResponse, code: number, body: unknown, type = "application/json") {
    res.writeHead(code, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  }

  private async body(req: IncomingMessage, max = 16 * 1024): Promise<unknown> {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > max) throw Object.assign(new Error("body too large"), { status: 413 });
      chunks.push(c as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return null;
    }
  }

  private authed(req: IncomingMessage): string | null {
    const h = req.headers.authorization ?? "";
    const m = /^Bearer ([0-9a-f]{64})$/.exec(h);
    if (!m) return null;
    const s = this.sessions.get(m[1]!);
    if (!s || s.exp < Date.now()) return null;
    return s.address;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    for (const [k, v] of Object.entries(this.cors(req))) res.setHeader(k, v);
    if (req.method === "OPTIONS") {
      res.writeHead(204, { "access-control-allow-methods": "GET, POST, OPTIONS", "access-control-allow-headers": "authorization, content-type", "access-control-max-age": "600" });
      return res.end();
    }
    if (req.method === "GET" && path === "/healthz") return this.send(res, 200, { ok: true, ...(this.o.health?.() ?? {}) });
    if (req.method === "GET" && path === "/metrics" && this.o.registry) return this.send(res, 200, await this.o.registry.metrics(), this.o.registry.contentType);
    if (req.method === "GET" && path === "/auth/nonce") {
      const nonce = generateNonce();
      this.nonces.set(nonce, Date.now() + 5 * 60_000);
      return this.send(res, 200, { nonce, domain: this.o.domain, chainId: this.o.chainId });
    }
    if (req.method === "POST" && path === "/auth/verify") {
      const b = (await this.body(req)) as { message?: unknown; signature?: unknown } | null;
      if (!b || typeof b.message !== "string" || typeof b.signature !== "string") return this.send(res, 400, { error: "message and signature required" });
      let msg: SiweMessage;
      try {
        msg = new SiweMessage(b.message);
      } catch {
        return this.send(res, 400, { error: "malformed SIWE message" });
      }
      const exp = this.nonces.get(msg.nonce);
      if (!exp || exp < Date.now()) return this.send(res, 401, { error: "unknown or expired nonce" });
      if (msg.chainId !== this.o.chainId) return this.send(res, 401, { error: "wrong chain" });
      try {
        const r = await msg.verify({ signature: b.signature, domain: this.o.domain, nonce: msg.nonce, time: new Date().toISOString() }, { suppressExceptions: true });
        if (!r.success) return this.send(res, 401, { error: "SIWE verification failed" });
      } catch {
        return this.send(res, 401, { error: "SIWE verification failed" });
      }
      this.nonces.delete(msg.nonce); // single use
      const token = randomBytes(32).toString("hex");
      this.sessions.set(token, { address: msg.address.toLowerCase(), exp: Date.now() + (this.o.sessionTtlMs ?? 3600_000) });
      return this.send(res, 200, { token, address: msg.address });
    }
    const m = /^\/jobs\/(\d{1,78})\/(result|receipt)$/.exec(path);
    if (req.method === "GET" && m) {
      const jobId = m[1]!;
      if (m[2] === "receipt") {
        const r = this.o.store.receipt(jobId);
        return r ? this.send(res, 200, r) : this.send(res, 404, { error: "no receipt" });
      }
      const who = this.authed(req);
      if (!who) return this.send(res, 401, { error: "sign in with Ethereum first" });
      const researcher = this.o.store.researcherOf(jobId);
      if (!researcher || researcher.toLowerCase() !== who) return this.send(res, 403, { error: "only the job's researcher may fetch its result" });
      const r = this.o.store.result(jobId);
      return r ? this.send(res, 200, r) : this.send(res, 404, { error: "result not ready" });
    }
    return this.send(res, 404, { error: "not found" });
  }
}
