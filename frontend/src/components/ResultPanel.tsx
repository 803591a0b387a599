import { useState } from "react";
import { useConfig, useConnection } from "wagmi";
import { signMessage } from "wagmi/actions";
import { bytesToHex, type Hex } from "viem";
import { useDeployment } from "../lib/rapha";
import { getResultKey } from "../lib/resultKey";
import { agentBase, downloadResult } from "../lib/agentApi";
import { humanizeError } from "../lib/errors";
import { useDatasets } from "../lib/chainData";
import { LossChart } from "./LossChart";
import { checkReceiptDocument, type ReceiptDocument } from "@rapha/sdk/receipt";
import { sha256 } from "@noble/hashes/sha2.js";

interface Decrypted { bytes: Uint8Array; curve: number[]; receipt: ReceiptDocument | null; receiptOk: boolean | null; weightsOk: boolean | null; metrics: Record<string, unknown> | null; params: { name: string; shape: number[] }[] | null }

/** Sign in to the hospital's agent, download the encrypted weights, decrypt them here with the wallet-derived key. */
export function ResultPanel({ jobId, node, receiptHash }: { jobId: bigint; node: string; receiptHash: Hex }) {
  const cfg = useConfig();
  const conn = useConnection();
  const { chainId, d } = useDeployment();
  const ds = useDatasets();
  const [busy, setBusy] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [out, setOut] = useState<Decrypted | null>(null);
  const meta = ds.data?.find((x) => x.node.toLowerCase() === node.toLowerCase())?.nodeMetadata ?? null;
  const base = agentBase(meta, d.agentUrl);

  async function run() {
    setErr(null); setOut(null);
    try {
      if (!base) throw new Error("This hospital node publishes no result endpoint (metadata `resultEndpoint`).");
      const sign = (message: string) => signMessage(cfg, { account: conn.address!, message });
      setBusy("Sign in with Ethereum in your wallet…");
      const r = await downloadResult({ base, address: conn.address!, chainId, jobId, signMessage: sign });
      setBusy("Deriving your result key (sign the key message if asked)…");
      const key = await getResultKey(conn.address!, sign);
      setBusy("Decrypting in your browser…");
      // refuses a result bound to another (chain, registry, job): a node cannot pass job A's result off as job B's
      const { openResult, openTrainingCurve } = await import("@rapha/sdk/result");
      const job = { chainId, jobRegistry: d.contracts.jobRegistry, jobId };
      const bytes = openResult(bytesToHex(key.secretKey), r.encrypted as never, job);
      // the per-epoch loss curve is only in the encrypted result (the public receipt carries final aggregates)
      const curve = r.trainingCurve ? openTrainingCurve(bytesToHex(key.secretKey), r.trainingCurve as never, job) : [];
      const rc = r.receipt ? checkReceiptDocument(r.receipt) : null;
      setOut({
        bytes,
        curve,
        receipt: rc?.document ?? null,
        receiptOk: rc ? rc.receiptHash === receiptHash.toLowerCase() && rc.metricsMatch : null,
        weightsOk: rc ? bytesToHex(sha256(bytes)) === rc.document.message.weightsSha256.toLowerCase() : null,
        metrics: r.metrics ?? rc?.document.metrics ?? null,
        params: r.params ?? null,
      });
    } catch (e) {
      setErr(humanizeError(e));
    } finally { setBusy(null); }
  }
  function save() {
    if (!out) return;
    const url = URL.createObjectURL(new Blob([out.bytes as BlobPart], { type: "application/octet-stream" }));
    const a = document.createElement("a");
    a.href = url; a.download = `rapha-job-${jobId}-weights.bin`; a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  const metrics = (out?.metrics ?? out?.receipt?.metrics ?? null) as Record<string, unknown> | null;
  const m = out?.receipt?.message;
  const counts = m ? { eligible: m.eligibleCount, used: m.usedCount, proven: m.provenCount } : null;
  const loss = out?.curve ?? [];
  return (
    <div className="card" data-testid="result-panel">
      <h3>Trained weights</h3>
      <p className="muted">Encrypted to your key by the hospital; decrypted only here, in your browser.</p>
      <button onClick={run} disabled={!!busy || !conn.address}>Sign in and download</button>
      {busy && <p className="notice" role="status">{busy}</p>}
      {err && <div className="error" role="alert">{err}</div>}
      {out && (
        <div data-testid="result-decrypted">
          <div className="ok">
            Decrypted {out.bytes.length.toLocaleString()} bytes of weights
            {out.params && ` (${out.params.map((p) => `${p.name} [${p.shape.join("×")}]`).join(", ")}; float32)`}. <button onClick={save}>Save file</button>
          </div>
          {counts && <p className="muted">Records: {counts.eligible} eligible in the cohort, {counts.used} used for training, {counts.proven} proven on chain.</p>}
          {m?.dpEpsilon && (
            <p className="muted" data-testid="dp-epsilon">
              Differential privacy (DP-SGD): ε = {m.dpEpsilon} spent{typeof (metrics?.privacy as { delta?: unknown } | undefined)?.delta === "number" ? ` at δ = ${(metrics!.privacy as { delta: number }).delta}` : ""}, recorded in the receipt.
            </p>
          )}
          {out.receiptOk !== null && (
            <p className={out.receiptOk ? "ok" : "error"} data-testid="receipt-check">
              Receipt hash {out.receiptOk ? "matches" : "DOES NOT match"} the one settled on chain ({receiptHash.slice(0, 14)}…).
            </p>
          )}
          {out.weightsOk !== null && (
            <p className={out.weightsOk ? "ok" : "error"} data-testid="weights-check">
              SHA-256 of the decrypted weights {out.weightsOk ? "matches" : "DOES NOT match"} the receipt.
            </p>
          )}
          {metrics && (
            <table><tbody>
              {Object.entries(metrics).filter(([, v]) => v !== null && typeof v !== "object").map(([k, v]) => (
                <tr key={k}><th>{k}</th><td>{typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString("en-US") : Number(v.toPrecision(4)).toString()) : String(v)}</td></tr>
              ))}
            </tbody></table>
          )}
          <LossChart values={loss.map(Number)} />
        </div>
      )}
    </div>
  );
}
