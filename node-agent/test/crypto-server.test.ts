import { expect } from "chai";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { SiweMessage } from "siwe";
import { generateResultKeyPair, encryptResult, decryptResult } from "../../sdk/src/model/index.js";
import { AgentHttpServer } from "../src/deliver/server.js";
import { makeMetrics } from "../src/metrics.js";
import { SimulatedAttestationProvider, attestationHash } from "../src/attest/provider.js";
import { recoverTypedDataAddress, keccak256, toBytes } from "viem";

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
});

describe("simulated attestation", () => {
  it("is labelled simulated, binds report data, and signs EIP-712 usage attestations", async () => {
    const pk = generatePrivateKey();
    const p = new SimulatedAttestationProvider(pk);
    const a = await p.attest(keccak256(toBytes("job-1")));
    expect(a.simulated).to.equal(true);
    expect(a.type).to.equal("SIMULATED");
    expect(a.notice).to.match(/SIMULATED/);
    expect(a.measurement).to.match(/^0x[0-9a-f]{64}$/);
    expect(attestationHash(a)).to.match(/^0x[0-9a-f]{64}$/);
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
