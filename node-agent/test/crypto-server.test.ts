import { expect } from "chai";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { SiweMessage } from "siwe";
import { request } from "node:http";
import { connect } from "node:net";
import { generateResultKeyPair, encryptResult, decryptResult, resultKeyProblem } from "@rapha/sdk/model/index";
import { AgentHttpServer } from "../src/deliver/server.js";
import { makeMetrics } from "../src/metrics.js";
import { SimulatedAttestationProvider } from "../src/attest/provider.js";
import { recoverTypedDataAddress } from "viem";

describe("result encryption (X25519 + HKDF + XChaCha20-Poly1305)", () => {
  it("round-trips to the researcher's key and fails for anyone else or on tampering", () => {
    const kp = generateResultKeyPair();
    const pt = new Uint8Array(5000).map((_, i) => i % 251);
    const enc = encryptResult(kp.publicKey, pt, "rapha:job:31337:1");
    expect(Buffer.from(decryptResult(kp.secretKey, enc)).equals(Buffer.from(pt))).to.equal(true);
    expect(() => decryptResult(generateResultKeyPair().secretKey, enc)).to.throw();
    const ct = Buffer.from(enc.ciphertext, "base64");
    ct[10]! ^= 1;
    expect(() => decryptResult(kp.secretKey, { ...enc, ciphertext: ct.toString("base64") })).to.throw();
    expect(() => decryptResult(kp.secretKey, { ...enc, aad: "rapha:job:31337:2" })).to.throw();
  });

  // RFC 7748 §6.1 / libsodium's blocklist: the u-coordinates of the points of order 1, 2, 4 and 8,
  // canonical and non-canonical (p - 1, p, p + 1, high bit set); with any of them every shared secret is zero
  const SMALL_ORDER = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  ];

  it("refuses small-order and malformed result keys (checked at admission, and again on the secret actually used)", () => {
    for (const k of SMALL_ORDER) {
      expect(resultKeyProblem(`0x${k}`), k).to.match(/small-order/);
      expect(() => encryptResult(`0x${k}`, new Uint8Array(8), "aad"), k).to.throw(/small-order/);
    }
    for (const k of ["0x", "0x1234", `0x${"zz".repeat(32)}`, `0x${"11".repeat(33)}`]) expect(resultKeyProblem(k), k).to.match(/32 bytes/);
    for (let i = 0; i < 20; i++) expect(resultKeyProblem(generateResultKeyPair().publicKey)).to.equal(null);
  });
});

describe("simulated attestation", () => {
  it("is labelled simulated, measures the training runtime, and signs EIP-712 usage attestations", async () => {
    const pk = generatePrivateKey();
    const p = new SimulatedAttestationProvider(pk);
    expect(p.type).to.equal("SIMULATED");
    expect(p.measurement()).to.match(/^0x[0-9a-f]{64}$/);
    const jobRegistry = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const sig = await p.signUsage({ chainId: 31337, jobRegistry, jobId: 1n, chunkIndex: 0, usage: 12345n });
    const rec = await recoverTypedDataAddress({
      domain: { name: "Rapha JobRegistry", version: "1", chainId: 31337, verifyingContract: jobRegistry },
      types: { UsageAttestation: [{ name: "jobId", type: "uint256" }, { name: "chunkIndex", type: "uint256" }, { name: "usage", type: "uint256" }] },
      primaryType: "UsageAttestation",
      message: { jobId: 1n, chunkIndex: 0n, usage: 12345n },
      signature: sig,
    });
    expect(rec).to.equal(p.enclaveSigner());
  });
});

describe("result endpoint behind Sign-In with Ethereum", () => {
  const researcher = privateKeyToAccount(generatePrivateKey());
  const stranger = privateKeyToAccount(generatePrivateKey());
  const domain = "hospital.test";
  let srv: AgentHttpServer;
  let base: string;
  const metrics = makeMetrics();
  before(async () => {
    srv = new AgentHttpServer({
      domain,
      chainId: 31337,
      registry: metrics.registry,
      health: () => ({ jobs: { settled: 1 } }),
      store: {
        researcherOf: (id) => (id === "7" ? researcher.address : null),
        result: (id) => (id === "7" ? { encrypted: "ciphertext" } : null),
        receipt: (id) => (id === "7" ? { jobId: "7" } : null),
      },
    });
    base = `http://127.0.0.1:${await srv.listen(0)}`;
  });
  after(() => srv.close());

  async function signIn(acct: typeof researcher, opts: { domain?: string; chainId?: number; nonce?: string } = {}) {
    const nonce = opts.nonce ?? ((await (await fetch(`${base}/auth/nonce`)).json()) as { nonce: string }).nonce;
    const message = new SiweMessage({ domain: opts.domain ?? domain, address: acct.address, statement: "Fetch Rapha job results", uri: `https://${domain}`, version: "1", chainId: opts.chainId ?? 31337, nonce, issuedAt: new Date().toISOString() }).prepareMessage();
    const signature = await acct.signMessage({ message });
    const r = await fetch(`${base}/auth/verify`, { method: "POST", body: JSON.stringify({ message, signature }) });
    return { status: r.status, body: (await r.json()) as { token?: string }, nonce };
  }

  it("serves the result only to the job's researcher", async () => {
    expect((await fetch(`${base}/jobs/7/result`)).status).to.equal(401);
    const s = await signIn(researcher);
    expect(s.status).to.equal(200);
    const ok = await fetch(`${base}/jobs/7/result`, { headers: { authorization: `Bearer ${s.body.token}` } });
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.equal({ encrypted: "ciphertext" });
    const t = await signIn(stranger);
    expect(t.status).to.equal(200);
    expect((await fetch(`${base}/jobs/7/result`, { headers: { authorization: `Bearer ${t.body.token}` } })).status).to.equal(403);
    expect((await fetch(`${base}/jobs/7/receipt`)).status).to.equal(200);
  });

  it("serves /healthz and Prometheus /metrics", async () => {
    metrics.jobsSeen.inc();
    const h = await fetch(`${base}/healthz`);
    expect(h.status).to.equal(200);
    expect(await h.json()).to.deep.equal({ ok: true, jobs: { settled: 1 } });
    const m = await (await fetch(`${base}/metrics`)).text();
    expect(m).to.match(/^rapha_jobs_seen_total 1$/m);
    expect(m).to.include("rapha_event_to_settle_seconds_bucket");
  });

  it("answers CORS preflights so the dApp can fetch results from the browser", async () => {
    const r = await fetch(`${base}/jobs/7/result`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" } });
    expect(r.status).to.equal(204);
    expect(r.headers.get("access-control-allow-origin")).to.equal("*");
    expect(r.headers.get("access-control-allow-headers")).to.include("authorization");
    const g = await fetch(`${base}/jobs/7/receipt`, { headers: { origin: "https://app.example" } });
    expect(g.headers.get("access-control-allow-origin")).to.equal("*");
  });

  it("refuses replayed nonces, foreign domains, wrong chains and forged signatures", async () => {
    const s = await signIn(researcher);
    expect(s.status).to.equal(200);
    expect((await signIn(researcher, { nonce: s.nonce })).status).to.equal(401);
    expect((await signIn(researcher, { domain: "evil.test" })).status).to.equal(401);
    expect((await signIn(researcher, { chainId: 1 })).status).to.equal(401);
    const nonce = ((await (await fetch(`${base}/auth/nonce`)).json()) as { nonce: string }).nonce;
    const message = new SiweMessage({ domain, address: researcher.address, uri: `https://${domain}`, version: "1", chainId: 31337, nonce, issuedAt: new Date().toISOString() }).prepareMessage();
    const signature = await stranger.signMessage({ message });
    expect((await fetch(`${base}/auth/verify`, { method: "POST", body: JSON.stringify({ message, signature }) })).status).to.equal(401);
    expect((await fetch(`${base}/jobs/7/result`, { headers: { authorization: `Bearer ${"ab".repeat(32)}` } })).status).to.equal(401);
  });
});

describe("HTTP hygiene (bounded stores, caps, value-free errors)", () => {
  const PLANTED = "0x" + "5e".repeat(32);
  let srv: AgentHttpServer;
  let base: string;
  let port: number;
  const researcher = privateKeyToAccount(generatePrivateKey());
  before(async () => {
    srv = new AgentHttpServer({
      domain: "hospital.test",
      chainId: 31337,
      limits: { maxSessions: 3 },
      store: {
        researcherOf: (id) => (id === "7" ? researcher.address : null),
        result: (id) => (id === "7" ? { ok: 1 } : null),
        receipt: (id) => {
          if (id === "13") throw new Error(`store exploded near ${PLANTED}`);
          return null;
        },
      },
    });
    port = await srv.listen(0);
    base = `http://127.0.0.1:${port}`;
  });
  after(() => srv.close());

  /** A raw GET from a given loopback source address (127.0.0.x), so tests can be many clients. */
  const getFrom = (localAddress: string, path: string) =>
    new Promise<number>((resolve, reject) => {
      const r = request({ host: "127.0.0.1", port, path, localAddress, agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      r.on("error", reject);
      r.end();
    });

  it("5,000 unauthenticated GET /auth/nonce from one client: rate-limited, store stays bounded", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5000; i += 100) codes.push(...(await Promise.all(Array.from({ length: 100 }, () => getFrom("127.0.0.1", "/auth/nonce")))));
    expect(codes.filter((c) => c === 200)).to.have.length(srv.limits.noncesPerIpPerMinute);
    expect(codes.filter((c) => c === 429)).to.have.length(5000 - srv.limits.noncesPerIpPerMinute);
    expect(srv.stats().nonces).to.be.at.most(srv.limits.noncesPerIpPerMinute);
  });

  it("nonces from many clients never exceed the global cap (oldest evicted)", async () => {
    const small = new AgentHttpServer({ domain: "h", chainId: 1, limits: { maxNonces: 50 }, store: { researcherOf: () => null, result: () => null, receipt: () => null } });
    const p = await small.listen(0);
    try {
      for (let i = 2; i < 60; i++) {
        const codes = await Promise.all(Array.from({ length: 20 }, () => new Promise<number>((resolve, reject) => {
          const r = request({ host: "127.0.0.1", port: p, path: "/auth/nonce", localAddress: `127.0.0.${i}`, agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
          r.on("error", reject);
          r.end();
        })));
        expect(codes.every((c) => c === 200)).to.equal(true);
      }
      expect(small.stats().nonces).to.equal(50);
    } finally {
      await small.close();
    }
  });

  it("a 1 MiB sign-in body gets 413 (declared or chunked), not 500", async () => {
    const big = JSON.stringify({ message: "x".repeat(1024 * 1024), signature: "0x" });
    const r = await fetch(`${base}/auth/verify`, { method: "POST", body: big, headers: { "content-type": "application/json" } });
    expect(r.status).to.equal(413);
    expect(await r.json()).to.deep.equal({ error: `request body larger than ${srv.limits.maxBodyBytes} bytes` });
    const chunked = await new Promise<number>((resolve, reject) => {
      const q = request({ host: "127.0.0.1", port, path: "/auth/verify", method: "POST", localAddress: "127.0.1.1", headers: { "transfer-encoding": "chunked" } }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      q.on("error", reject);
      for (let i = 0; i < 64; i++) q.write(Buffer.alloc(16 * 1024, 0x61));
      q.end();
    });
    expect(chunked).to.equal(413);
  });

  it("400 for malformed JSON, bodies, ids and request targets; 404/405 where due; no stack or value in any error body", async () => {
    const post = (path: string, body: string) => fetch(`${base}${path}`, { method: "POST", body });
    const cases: [Promise<Response>, number][] = [
      [post("/auth/verify", "{not json"), 400],
      [post("/auth/verify", JSON.stringify({ message: 1, signature: [] })), 400],
      [post("/auth/verify", JSON.stringify({ message: `hello ${PLANTED}`, signature: "0x" })), 400],
      [fetch(`${base}/jobs/abc/result`), 400],
      [fetch(`${base}/jobs/-1/receipt`), 400],
      [fetch(`${base}/jobs/${"9".repeat(79)}/receipt`), 400],
      [fetch(`${base}/jobs/007/receipt`), 400],
      [fetch(`${base}/jobs/7/other`), 404],
      [fetch(`${base}/nope`), 404],
      [fetch(`${base}/healthz`, { method: "POST" }), 405],
      [fetch(`${base}/auth/verify`), 405],
      [fetch(`${base}/jobs/7/result`, { method: "DELETE" }), 405],
      [fetch(`${base}/jobs/13/receipt`), 500],
    ];
    for (const [p, code] of cases) {
      const r = await p;
      const text = await r.text();
      expect(r.status, text).to.equal(code);
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(body)).to.deep.equal(["error"]);
      expect(text).to.not.match(/\bat .*:\d+:\d+|Error:|node:internal/);
      expect(text).to.not.include(PLANTED.slice(2));
      if (code === 405) expect(r.headers.get("allow")).to.match(/GET|POST/);
    }
    // a request target that is not a path at all
    const raw = await new Promise<string>((resolve) => {
      const s = connect(port, "127.0.0.1", () => s.end("GET http://[::1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      let out = "";
      s.on("data", (d) => (out += d.toString()));
      s.on("close", () => resolve(out));
    });
    expect(raw).to.match(/^HTTP\/1\.1 400/);
  });

  it("sign-in attempts are rate-limited per client and per address; sessions are bounded", async () => {
    const sign = async (localAddress: string) => {
      const nonce = await new Promise<string>((resolve, reject) => {
        const r = request({ host: "127.0.0.1", port, path: "/auth/nonce", localAddress }, (res) => {
          let b = "";
          res.on("data", (d) => (b += d));
          res.on("end", () => resolve((JSON.parse(b) as { nonce: string }).nonce));
        });
        r.on("error", reject);
        r.end();
      });
      const message = new SiweMessage({ domain: "hospital.test", address: researcher.address, uri: "https://hospital.test", version: "1", chainId: 31337, nonce, issuedAt: new Date().toISOString() }).prepareMessage();
      const body = JSON.stringify({ message, signature: await researcher.signMessage({ message }) });
      return new Promise<{ status: number; token?: string }>((resolve, reject) => {
        const r = request({ host: "127.0.0.1", port, path: "/auth/verify", method: "POST", localAddress, headers: { "content-length": Buffer.byteLength(body) } }, (res) => {
          let b = "";
          res.on("data", (d) => (b += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, token: (JSON.parse(b) as { token?: string }).token }));
        });
        r.on("error", reject);
        r.end(body);
      });
    };
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await sign(`127.0.2.${i + 1}`);
      expect(s.status).to.equal(200);
      tokens.push(s.token!);
    }
    expect(srv.stats().sessions).to.equal(3); // maxSessions 3: the two oldest are gone
    expect((await fetch(`${base}/jobs/7/result`, { headers: { authorization: `Bearer ${tokens[0]}` } })).status).to.equal(401);
    expect((await fetch(`${base}/jobs/7/result`, { headers: { authorization: `Bearer ${tokens[4]}` } })).status).to.equal(200);
    // same Ethereum address from fresh clients: 20 per minute, then 429
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await sign(`127.0.3.${i + 1}`)).status);
    expect(statuses.filter((s) => s === 429).length).to.equal(5); // 5 already used above
    // one client hammering with garbage: 429 after its 20
    const garbage = await Promise.all(Array.from({ length: 30 }, () => new Promise<number>((resolve, reject) => {
      const r = request({ host: "127.0.0.1", port, path: "/auth/verify", method: "POST", localAddress: "127.0.4.1" }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      r.on("error", reject);
      r.end("{}");
    })));
    expect(garbage.filter((c) => c === 429)).to.have.length(10);
    expect(garbage.filter((c) => c === 400)).to.have.length(20);
  });
});
