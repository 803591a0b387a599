// The agent's HTTP surface (node:http):
//   GET  /healthz                 liveness + summary
//   GET  /metrics                 Prometheus (prom-client)
//   GET  /auth/nonce              SIWE nonce (single use, 5 min)
//   POST /auth/verify             {message, signature} -> {token} (Sign-In with Ethereum)
//   GET  /jobs/:id/result         encrypted weights + receipt; only the job's researcher (Bearer token)
//   GET  /jobs/:id/receipt        receipt JSON (hashes and aggregate metrics only; public, its hash is on chain)
//   + mounted routes (Mount): POST /feasibility (src/feasibility), GET /jobs/:id/progress (src/progress)
// Responses never carry record values: results are ciphertext to the researcher's key. Every error is
// a fixed sentence (no stack, no echoed input). Unauthenticated callers cannot grow memory: nonces,
// sessions and rate-limit windows live in bounded, expiring stores (limits.ts); bodies are capped (413).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { SiweMessage, generateNonce } from "siwe";
import type { Registry } from "prom-client";
import type { Logger } from "pino";
import { shortError } from "../chain/retry.js";
import { ExpiringMap, RateLimiter } from "./limits.js";

export interface ResultStore {
  /** returns null if unknown */
  researcherOf(jobId: string): string | null;
  result(jobId: string): unknown | null;
  receipt(jobId: string): unknown | null;
}

/** Caps of the HTTP surface; defaults suit one hospital node. */
export interface HttpLimits {
  /** largest request body accepted (bytes) */
  maxBodyBytes: number;
  /** outstanding SIWE nonces, all clients together (oldest evicted beyond) */
  maxNonces: number;
  /** nonces one client IP may request per minute */
  noncesPerIpPerMinute: number;
  /** sign-in attempts per client IP, and per Ethereum address, per minute */
  signInsPerMinute: number;
  /** live sessions (oldest evicted beyond) */
  maxSessions: number;
}
export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxBodyBytes: 16 * 1024, maxNonces: 10_000, noncesPerIpPerMinute: 30, signInsPerMinute: 20, maxSessions: 10_000 };

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
  limits?: Partial<HttpLimits>;
  /** routes owned by other modules (feasibility, job progress), matched after the built-in ones */
  mounts?: Mount[];
}

/** A route another module serves through this server (same CORS, body cap, error hygiene). */
export interface Mount {
  pattern: RegExp;
  methods: string[];
  handle(req: { match: RegExpExecArray; ip: string; /** signed-in address (SIWE), lowercase */ who: string | null; body: () => Promise<unknown> }): Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;
}

/** An HTTP error with a fixed, value-free message. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

const NONCE_TTL_MS = 5 * 60_000;
const MINUTE = 60_000;
/** uint256 job ids: up to 78 decimal digits, no leading zeros */
const JOB_ID = /^(0|[1-9]\d{0,77})$/;
const ROUTES: Record<string, string[]> = { "/healthz": ["GET"], "/metrics": ["GET"], "/auth/nonce": ["GET"], "/auth/verify": ["POST"] };

export class AgentHttpServer {
  readonly limits: HttpLimits;
  private nonces: ExpiringMap<true>;
  private sessions: ExpiringMap<string>;
  private nonceRate: RateLimiter;
  private signInByIp: RateLimiter;
  private signInByAddress: RateLimiter;
  server: Server;
  constructor(readonly o: ServerOptions) {
    this.limits = { ...DEFAULT_HTTP_LIMITS, ...o.limits };
    this.nonces = new ExpiringMap(this.limits.maxNonces);
    this.sessions = new ExpiringMap(this.limits.maxSessions);
    this.nonceRate = new RateLimiter(this.limits.noncesPerIpPerMinute, MINUTE);
    this.signInByIp = new RateLimiter(this.limits.signInsPerMinute, MINUTE);
    this.signInByAddress = new RateLimiter(this.limits.signInsPerMinute, MINUTE);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (e instanceof HttpError) return this.send(res, e.status, { error: e.message }, undefined, e.headers);
        this.o.log?.error({ err: shortError(e) }, "http handler error");
        this.send(res, 500, { error: "internal error" });
      });
    });
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
  }

  /** Sizes of the bounded stores (for tests and /healthz). */
  stats(): { nonces: number; sessions: number } {
    return { nonces: this.nonces.size, sessions: this.sessions.size };
  }

  listen(port: number, host = "127.0.0.1"): Promise<number> {
    return new Promise((r) => this.server.listen(port, host, () => r((this.server.address() as { port: number }).port)));
  }
  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeIdleConnections();
    });
  }

  private cors(req: IncomingMessage): Record<string, string> {
    const allowed = this.o.corsOrigins ?? ["*"];
    const origin = req.headers.origin;
    if (!origin) return {};
    if (allowed.includes("*")) return { "access-control-allow-origin": "*" };
    return allowed.includes(origin) ? { "access-control-allow-origin": origin, vary: "Origin" } : {};
  }

  private send(res: ServerResponse, code: number, body: unknown, type = "application/json", headers: Record<string, string> = {}) {
    if (res.headersSent) return void res.end();
    res.writeHead(code, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  }

  /** The JSON body, at most maxBodyBytes (413 beyond, decided from Content-Length when it is declared). */
  private async body(req: IncomingMessage): Promise<unknown> {
    const max = this.limits.maxBodyBytes;
    const tooLarge = () => new HttpError(413, `request body larger than ${max} bytes`, { connection: "close" });
    if (Number(req.headers["content-length"] ?? 0) > max) throw tooLarge();
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > max) throw tooLarge();
      chunks.push(c as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      throw new HttpError(400, "request body must be JSON");
    }
  }

  private authed(req: IncomingMessage): string | null {
    const h = req.headers.authorization ?? "";
    const m = /^Bearer ([0-9a-f]{64})$/.exec(h);
    if (!m) return null;
    return this.sessions.get(m[1]!) ?? null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    let url: URL;
    try {
      if (!(req.url ?? "").startsWith("/")) throw new Error("not origin-form");
      url = new URL(req.url!, "http://agent.invalid");
    } catch {
      throw new HttpError(400, "malformed request URL");
    }
    const path = url.pathname;
    const ip = req.socket.remoteAddress ?? "unknown";
    for (const [k, v] of Object.entries(this.cors(req))) res.setHeader(k, v);
    if (req.method === "OPTIONS") {
      res.writeHead(204, { "access-control-allow-methods": "GET, POST, OPTIONS", "access-control-allow-headers": "authorization, content-type", "access-control-max-age": "600" });
      return res.end();
    }
    const jobRoute = /^\/jobs\/([^/]*)\/(result|receipt)$/.exec(path);
    const mount = ROUTES[path] || jobRoute ? undefined : this.o.mounts?.find((m) => m.pattern.test(path));
    const allowed = ROUTES[path] ?? (jobRoute ? ["GET"] : mount?.methods);
    if (!allowed) throw new HttpError(404, "not found");
    if (!allowed.includes(req.method ?? "")) throw new HttpError(405, "method not allowed", { allow: [...allowed, "OPTIONS"].join(", ") });

    if (path === "/healthz") return this.send(res, 200, { ok: true, ...(this.o.health?.() ?? {}) });
    if (path === "/metrics") {
      if (!this.o.registry) throw new HttpError(404, "not found");
      return this.send(res, 200, await this.o.registry.metrics(), this.o.registry.contentType);
    }
    if (path === "/auth/nonce") {
      if (!this.nonceRate.hit(ip)) throw new HttpError(429, "too many nonce requests; retry in a minute", { "retry-after": "60" });
      const nonce = generateNonce();
      this.nonces.set(nonce, true, NONCE_TTL_MS);
      return this.send(res, 200, { nonce, domain: this.o.domain, chainId: this.o.chainId });
    }
    if (path === "/auth/verify") return this.verify(req, res, ip);
    if (mount) {
      const r = await mount.handle({ match: mount.pattern.exec(path)!, ip, who: this.authed(req), body: () => this.body(req) });
      return this.send(res, r.status, r.body, undefined, r.headers);
    }

    const jobId = jobRoute![1]!;
    if (!JOB_ID.test(jobId)) throw new HttpError(400, "job id must be a decimal uint256");
    if (jobRoute![2] === "receipt") {
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

  private async verify(req: IncomingMessage, res: ServerResponse, ip: string) {
    const limited = () => new HttpError(429, "too many sign-in attempts; retry in a minute", { "retry-after": "60" });
    if (!this.signInByIp.hit(ip)) throw limited();
    const b = (await this.body(req)) as { message?: unknown; signature?: unknown } | null;
    if (!b || typeof b.message !== "string" || typeof b.signature !== "string") throw new HttpError(400, "message and signature (strings) required");
    let msg: SiweMessage;
    try {
      msg = new SiweMessage(b.message);
    } catch {
      throw new HttpError(400, "malformed SIWE message");
    }
    if (!this.signInByAddress.hit(msg.address.toLowerCase())) throw limited();
    if (!this.nonces.get(msg.nonce)) return this.send(res, 401, { error: "unknown or expired nonce" });
    if (msg.chainId !== this.o.chainId) return this.send(res, 401, { error: "wrong chain" });
    try {
      const r = await msg.verify({ signature: b.signature, domain: this.o.domain, nonce: msg.nonce, time: new Date().toISOString() }, { suppressExceptions: true });
      if (!r.success) return this.send(res, 401, { error: "SIWE verification failed" });
    } catch {
      return this.send(res, 401, { error: "SIWE verification failed" });
    }
    if (!this.nonces.delete(msg.nonce)) return this.send(res, 401, { error: "unknown or expired nonce" }); // single use, even when two verifies race
    const token = randomBytes(32).toString("hex");
    const ttl = this.o.sessionTtlMs ?? 3600_000;
    this.sessions.set(token, msg.address.toLowerCase(), ttl);
    return this.send(res, 200, { token, address: msg.address });
  }
}
