import { createSiweMessage } from "viem/siwe";
import type { Address, Hex } from "viem";

/** Result endpoint of a hospital node-agent (Sign-In with Ethereum, then the encrypted result). */
export interface AgentResult {
  encrypted: unknown; // sdk EncryptedResult
  /** sdk EncryptedResult of the per-epoch loss curve (AAD suffixed ":curve"); absent from older agents */
  trainingCurve?: unknown;
  receipt: Record<string, unknown> | null;
  metrics?: Record<string, unknown> | null;
  params?: { name: string; shape: number[] }[] | null;
}

async function fetchT(url: string, init: RequestInit = {}, ms = 15_000): Promise<Response> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), ms);
  try {
    return await fetch(url, { ...init, signal: ctl.signal });
  } catch (e) {
    throw new Error(`The hospital's result endpoint (${new URL(url).origin}) did not answer: ${(e as Error).name === "AbortError" ? "timed out" : (e as Error).message}.`);
  } finally {
    clearTimeout(t);
  }
}

async function json(r: Response, what: string) {
  if (!r.ok) {
    let detail = "";
    try { detail = ((await r.json()) as { error?: string }).error ?? ""; } catch { /* not json */ }
    throw new Error(`${what}: HTTP ${r.status}${detail ? ` — ${detail}` : ""}`);
  }
  return r.json();
}

/** The node's result endpoint: from its public metadata (`resultEndpoint` / `endpoint`), else the configured agent URL. */
export function agentBase(nodeMetadata: Record<string, unknown> | null, fallback?: string): string | null {
  const m = nodeMetadata ?? {};
  const u = (m.resultEndpoint ?? m.endpoint ?? m.agentUrl ?? m.url ?? fallback) as string | undefined;
  return u ? u.replace(/\/+$/, "") : null;
}

/**
 * Sign-In with Ethereum (EIP-4361) against the agent, then download job `jobId`'s encrypted weights
 * and receipt. The SIWE message binds this page's origin, the chain and the agent's nonce.
 */
export async function downloadResult(p: {
  base: string; address: Address; chainId: number; jobId: bigint; signMessage: (m: string) => Promise<Hex>;
}): Promise<AgentResult> {
  const n = (await json(await fetchT(`${p.base}/auth/nonce`), "Could not get a sign-in nonce")) as { nonce: string; domain?: string; chainId?: number };
  if (n.chainId !== undefined && n.chainId !== p.chainId) throw new Error(`This hospital's agent serves chain ${n.chainId}, but your wallet is on ${p.chainId}.`);
  const nonce = n.nonce;
  const message = createSiweMessage({
    // the agent names the SIWE domain it accepts (its own host); the URI says where the request comes from
    domain: n.domain ?? location.host,
    address: p.address,
    statement: `Download the encrypted result of Rapha job ${p.jobId}.`,
    uri: location.origin,
    version: "1",
    chainId: p.chainId,
    nonce,
    issuedAt: new Date(),
    expirationTime: new Date(Date.now() + 10 * 60_000),
  });
  const signature = await p.signMessage(message);
  const auth = (await json(
    await fetchT(`${p.base}/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message, signature }) }),
    "Sign-in was refused",
  )) as { token: string };
  const res = (await json(
    await fetchT(`${p.base}/jobs/${p.jobId}/result`, { headers: { authorization: `Bearer ${auth.token}` } }, 60_000),
    "Could not download the result",
  )) as Record<string, unknown>;
  // node-agent "rapha-result/1": { weights: EncryptedResult, metrics, params, … }; the receipt is public at /jobs/:id/receipt
  const encrypted = (res.weights ?? res.encrypted ?? res) as unknown;
  const receipt = (res.receipt as Record<string, unknown> | undefined) ?? (await fetchReceipt(p.base, p.jobId).catch(() => null));
  return { encrypted, trainingCurve: res.trainingCurve ?? null, receipt, metrics: (res.metrics as Record<string, unknown> | undefined) ?? null, params: (res.params as { name: string; shape: number[] }[] | undefined) ?? null };
}

/** The public receipt (hashes and aggregate metrics only); its keccak256 is settled on chain. */
export async function fetchReceipt(base: string, jobId: bigint): Promise<Record<string, unknown>> {
  return (await json(await fetchT(`${base}/jobs/${jobId}/receipt`), "Could not fetch the receipt")) as Record<string, unknown>;
}

/** A job's public progress on the hospital's agent (GET /jobs/:id/progress; docs/PROTOCOL.md "Agent API"). */
export interface AgentProgress {
  stage: string;
  training: { epoch: number; epochs: number; loss: number | null } | null;
  batches: { proven: number; submitted: number; total: number } | null;
  etaSeconds: number | null;
  updatedAt: number | null;
}

const nat = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0;

/** The agent's progress answer, checked field by field (an unreachable or odd agent throws: the page falls back to chain events). */
export async function fetchProgress(base: string, jobId: bigint, ms = 5_000): Promise<AgentProgress> {
  const j = (await json(await fetchT(`${base}/jobs/${jobId}/progress`, {}, ms), "No live progress")) as Record<string, unknown>;
  const t = j.training as AgentProgress["training"];
  const b = j.batches as AgentProgress["batches"];
  const ok = typeof j.stage === "string" && j.version === "rapha-progress/1"
    && (t === null || (nat(t?.epoch) && nat(t?.epochs) && (t!.loss === null || typeof t!.loss === "number")))
    && (b === null || (nat(b?.proven) && nat(b?.submitted) && nat(b?.total)))
    && (j.etaSeconds === null || nat(j.etaSeconds));
  if (!ok) throw new Error("The hospital's agent sent a malformed progress answer.");
  return { stage: j.stage as string, training: t, batches: b, etaSeconds: j.etaSeconds as number | null, updatedAt: (j.updatedAt as number | null) ?? null };
}

/**
 * Feasibility before escrow (POST /feasibility): how many consented, eligible records the node holds
 * for this cohort, rounded and floored at the hospital's k. The answer must be signed (EIP-712) by
 * the dataset's registered node, for this chain, dataset and cohort, or it is refused.
 */
export async function queryFeasibility(p: { base: string; chainId: number; node: Address; datasetId: bigint; cohortParams: bigint }) {
  const { verifyFeasibilityAnswer } = await import("@rapha/sdk/feasibility");
  const raw = await json(
    await fetchT(`${p.base}/feasibility`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ datasetId: String(p.datasetId), cohortParams: String(p.cohortParams) }) }, 20_000),
    "The hospital did not answer the feasibility query",
  );
  return verifyFeasibilityAnswer(raw, { node: p.node, chainId: p.chainId, datasetId: p.datasetId, cohortParams: p.cohortParams });
}
