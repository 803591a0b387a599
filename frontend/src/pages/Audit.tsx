import { useEffect, useState } from "react";
import { usePublicClient } from "wagmi";
import { isHash, parseEventLogs, type PublicClient } from "viem";
import { fetchJobEvents } from "../lib/chainData";
import { jobRegistryAbi, nodeRegistryAbi } from "../lib/contracts";
import { useDeployment } from "../lib/rapha";
import { addressLink, txLink } from "../lib/config";
import { buildTimeline, type ChainEvent } from "../lib/timeline";
import { collectBatches, verifyBatch, type BatchCheck } from "../lib/audit";
import { humanizeError } from "../lib/errors";
import { go } from "../lib/route";
import { shortHash } from "../lib/format";
import { PhaseBadge } from "../components/Timeline";
import { auditReceipt, type ReceiptAudit } from "../lib/receipt";
import { agentBase, fetchReceipt } from "../lib/agentApi";
import { fetchDatasets, type DatasetRow } from "../lib/chainData";
import { statedDataBasis } from "../lib/profile";

type Verdict = { b: BatchCheck; ok: boolean | null; err?: string };

export default function Audit({ params }: { params: URLSearchParams }) {
  const { chainId, d } = useDeployment();
  const pc = usePublicClient({ chainId }) as PublicClient;
  const q0 = params.get("q") ?? "";
  const [q, setQ] = useState(q0);
  const [jobId, setJobId] = useState<bigint | null>(null);
  const [events, setEvents] = useState<ChainEvent[] | null>(null);
  const [verdicts, setVerdicts] = useState<Verdict[] | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [receiptMsg, setReceiptMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [receiptAudit, setReceiptAudit] = useState<ReceiptAudit | null>(null);
  const [quoteURI, setQuoteURI] = useState<string | null>(null);

  useEffect(() => { if (q0) void lookup(q0); /* eslint-disable-next-line react-hooks/exhaustive-deps */ }, [q0, chainId]);

  async function lookup(input: string) {
    setErr(null); setEvents(null); setVerdicts(null); setReceiptMsg(null); setReceiptAudit(null); setQuoteURI(null); setJobId(null);
    try {
      const s = input.trim();
      let id: bigint;
      if (isHash(s)) {
        setStatus("Reading the transaction…");
        const r = await pc.getTransactionReceipt({ hash: s });
        const logs = parseEventLogs({ abi: jobRegistryAbi, logs: r.logs, strict: false }).filter((l) => (l.args as { jobId?: bigint })?.jobId !== undefined);
        if (!logs.length) throw new Error("This transaction emitted no Rapha job event.");
        id = (logs[0].args as { jobId: bigint }).jobId;
      } else if (/^\d+$/.test(s)) id = BigInt(s);
      else throw new Error("Enter a job id (a number) or a transaction hash (0x + 64 hex digits).");
      setJobId(id);
      setStatus("Reading the job's events…");
      const evs = await fetchJobEvents(pc, d, { jobId: id });
      if (!evs.length) throw new Error(`No events for job ${id} on this chain.`);
      setEvents(evs);
      const settled = evs.find((e) => e.eventName === "JobSettled");
      if (settled) void autoReceipt(id, String(evs[0].args.node), evs);
      const acc = evs.find((e) => e.eventName === "JobAccepted");
      if (acc) void findQuote(String(acc.args.node), String(acc.args.attestationHash));
      setStatus("Extracting the batch proofs…");
      const batches = await collectBatches(pc, chainId, d.contracts.jobRegistry, id, evs);
      if (!batches.length) { setVerdicts([]); return; }
      setVerdicts(batches.map((b) => ({ b, ok: null })));
      setStatus("Loading the verification key and snarkjs…");
      const vkeyUrl = d.vkeyUrl ?? "vkey/record_count.json";
      const vr = await fetch(new URL(vkeyUrl, document.baseURI));
      if (!vr.ok) throw new Error(`Verification key not found at ${vkeyUrl} (HTTP ${vr.status}).`);
      const vkey = await vr.json();
      const res: Verdict[] = [];
      for (const b of batches) {
        setStatus(`Verifying batch ${b.chunkIndex} with snarkjs…`);
        try { res.push({ b, ok: await verifyBatch(vkey, b) }); } catch (e) { res.push({ b, ok: false, err: (e as Error).message }); }
        setVerdicts([...res, ...batches.slice(res.length).map((x) => ({ b: x, ok: null }))]);
      }
    } catch (e) {
      setErr(humanizeError(e));
    } finally { setStatus(null); }
  }

  /** The node's published attestation evidence: the NodeRegistered event whose quoteHash is the one pinned in the job. */
  async function findQuote(node: string, quoteHash: string) {
    try {
      const evs = await pc.getContractEvents({ address: d.contracts.nodeRegistry, abi: nodeRegistryAbi, eventName: "NodeRegistered", args: { operator: node as `0x${string}` }, fromBlock: BigInt(d.startBlock ?? 0), strict: true });
      setQuoteURI(evs.find((e) => e.args.quoteHash.toLowerCase() === quoteHash.toLowerCase())?.args.quoteURI ?? null);
    } catch { /* shown as unknown */ }
  }

  /** Fetches the node's public receipt (GET /jobs/:id/receipt) and re-checks it against the chain. */
  async function autoReceipt(id: bigint, node: string, evs: ChainEvent[]) {
    try {
      const ds = await fetchDatasets(pc, d);
      const base = agentBase(ds.find((x) => x.node.toLowerCase() === node.toLowerCase())?.nodeMetadata ?? null, d.agentUrl);
      if (!base) { setReceiptMsg({ ok: false, text: "The node publishes no result endpoint: upload the receipt JSON below to check it." }); return; }
      showAudit(auditReceipt(await fetchReceipt(base, id), evs, { chainId, jobRegistry: d.contracts.jobRegistry }, statedDataBasis(jobDataset(ds, evs)?.profile)), "The node's receipt");
    } catch (e) {
      setReceiptMsg({ ok: false, text: `${humanizeError(e)} Upload the receipt JSON below to check it.` });
    }
  }

  function showAudit(a: ReceiptAudit, what: string) {
    setReceiptAudit(a);
    setReceiptMsg({ ok: a.ok, text: a.ok ? `${what} re-checks: its EIP-712 hash ${shortHash(a.receiptHash!)} is exactly the settled receipt hash and its fields match the chain.` : `${what} does NOT re-check (see the failed lines).` });
  }

  async function checkReceipt(f: File | undefined) {
    if (!f || !events) return;
    try {
      const doc = JSON.parse(await f.text());
      const ds = await fetchDatasets(pc, d).catch(() => []);
      showAudit(auditReceipt(doc, events, { chainId, jobRegistry: d.contracts.jobRegistry }, statedDataBasis(jobDataset(ds, events)?.profile)), "The uploaded receipt");
    } catch (e) { setReceiptMsg({ ok: false, text: `Not a JSON receipt: ${(e as Error).message}` }); }
  }

  const tl = events ? buildTimeline(events, "other") : null;
  const link = (h: string) => txLink(chainId, h);
  return (
    <section>
      <h1>Audit a job</h1>
      <form className="row" onSubmit={(e) => { e.preventDefault(); go("audit", { q }); if (q === q0) void lookup(q); }}>
        <input aria-label="Job id or transaction hash" placeholder="job id or transaction hash" value={q} onChange={(e) => setQ(e.target.value)} style={{ flex: 1, minWidth: 280 }} />
        <button type="submit">Audit</button>
      </form>
      <p className="muted">
        Contracts: JobRegistry <ContractLink chainId={chainId} a={d.contracts.jobRegistry} /> · NodeRegistry <ContractLink chainId={chainId} a={d.contracts.nodeRegistry} /> ·
        Vault <ContractLink chainId={chainId} a={d.contracts.vault} /> · USDC <ContractLink chainId={chainId} a={d.contracts.usdc} />
      </p>
      {status && <p className="notice" role="status">{status}</p>}
      {err && <div className="error" role="alert">{err}</div>}
      {tl && jobId !== null && (
        <>
          <h2>Job #{String(jobId)} <PhaseBadge phase={tl.phase} /></h2>
          <table data-testid="audit-events"><thead><tr><th>Block</th><th>Event</th><th>Details</th><th>Transaction</th></tr></thead><tbody>
            {[...events!].sort((a, b) => Number((a.blockNumber ?? 0n) - (b.blockNumber ?? 0n)) || (a.logIndex ?? 0) - (b.logIndex ?? 0)).map((e) => (
              <tr key={`${e.transactionHash}:${e.logIndex}`}>
                <td>{String(e.blockNumber)}</td><td>{e.eventName}</td>
                <td className="mono">{Object.entries(e.args).filter(([k]) => !/^\d+$/.test(k)).map(([k, v]) => `${k}=${String(v)}`).join(" ").slice(0, 400)}</td>
                <td className="mono">{link(e.transactionHash!) ? <a href={link(e.transactionHash!)} target="_blank" rel="noreferrer">{shortHash(e.transactionHash!)}</a> : shortHash(e.transactionHash!)}</td>
              </tr>
            ))}
          </tbody></table>
          <h2>Batch proofs</h2>
          {verdicts && verdicts.length === 0 && <p className="muted">No batch proof submitted for this job.</p>}
          {verdicts && verdicts.length > 0 && (
            <table data-testid="audit-proofs"><thead><tr><th>Batch</th><th>Records</th><th>Proof (re-verified here with snarkjs)</th><th>Transaction</th></tr></thead><tbody>
              {verdicts.map((v) => (
                <tr key={String(v.b.chunkIndex)}>
                  <td>{String(v.b.chunkIndex)}</td><td>{String(v.b.count)}</td>
                  <td data-testid="proof-verdict">{v.ok === null ? "verifying…" : v.ok ? "✔ valid" : `✘ INVALID${v.err ? ` (${v.err})` : ""}`}</td>
                  <td className="mono">{link(v.b.tx) ? <a href={link(v.b.tx)} target="_blank" rel="noreferrer">{shortHash(v.b.tx)}</a> : shortHash(v.b.tx)}</td>
                </tr>
              ))}
            </tbody></table>
          )}
          <h2>Enclave attestation</h2>
          {(() => {
            const acc = events!.find((e) => e.eventName === "JobAccepted")?.args;
            if (!acc) return <p className="muted">Not accepted: no enclave key pinned yet.</p>;
            return (
              <p data-testid="audit-attestation" className="mono">
                enclave key {String(acc.enclaveKey)} · quote hash {String(acc.attestationHash)}
                {quoteURI && <> · evidence <a href={quoteURI} target="_blank" rel="noreferrer">{quoteURI.slice(0, 60)}</a> (re-verify: <code>npm run attest:verify -- --evidence &lt;uri&gt; --key {shortHash(String(acc.enclaveKey))} …</code>)</>}
              </p>
            );
          })()}
          <h2>Receipt</h2>
          <label>Check a receipt JSON against the settled receipt hash
            <input type="file" accept=".json,application/json" onChange={(e) => checkReceipt(e.target.files?.[0])} />
          </label>
          {receiptMsg && <div className={receiptMsg.ok ? "ok" : "error"} data-testid="receipt-verdict">{receiptMsg.text}</div>}
          {receiptAudit?.basis && <p data-testid="receipt-basis">{receiptAudit.basis}.</p>}
          {receiptAudit && <ul data-testid="receipt-checks">{receiptAudit.checks.map((c) => <li key={c.text} className={c.ok ? "ok" : "error"}>{c.ok ? "✔" : "✘"} {c.text}</li>)}</ul>}
        </>
      )}
    </section>
  );
}

/** The dataset the job was created on (JobCreated.spec.datasetId), among the catalogue's rows. */
function jobDataset(ds: DatasetRow[], evs: ChainEvent[]): DatasetRow | undefined {
  const spec = evs.find((e) => e.eventName === "JobCreated")?.args.spec as { datasetId?: bigint } | undefined;
  return spec?.datasetId === undefined ? undefined : ds.find((x) => x.id === spec.datasetId);
}

function ContractLink({ chainId, a }: { chainId: number; a: string }) {
  const l = addressLink(chainId, a);
  return l ? <a href={l} target="_blank" rel="noreferrer" className="mono">{shortHash(a)}</a> : <span className="mono">{shortHash(a)}</span>;
}
