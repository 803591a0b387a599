import { useEffect, useMemo, useState } from "react";
import { useConfig, useConnection, usePublicClient, useReadContract } from "wagmi";
import { signMessage } from "wagmi/actions";
import { bytesToHex, erc20Abi, type PublicClient } from "viem";
import { readChainJob } from "@rapha/sdk/calldata";
import { checkReceiptDocument } from "@rapha/sdk/receipt";
import { MultiSiteForm } from "../components/MultiSiteForm";
import { EvaluationView, SiteTable } from "../components/MultiSiteGroup";
import { VaultBalance } from "../components/VaultBalance";
import { useDatasets, useJobEvents, type DatasetRow } from "../lib/chainData";
import { useDeployment } from "../lib/rapha";
import { jobRegistryAbi } from "../lib/contracts";
import { createMultiSiteJobs, groupId, groupMultiSite, MultiSiteCreateError, progressLabel, wagmiOps, type MultiProgress, type MultiSiteGroup } from "../lib/multiSite";
import { bundleInfo, evaluateSites, parseHeldOutCsv, type BundleInfo, type Evaluation, type HeldOutSet, type SiteResult } from "../lib/heldOut";
import { agentBase, downloadResult } from "../lib/agentApi";
import { getResultKey } from "../lib/resultKey";
import { humanizeError } from "../lib/errors";
import { useTransactor } from "../lib/useTransactor";
import { fmtUsdc } from "../lib/format";
import { go } from "../lib/route";
import { COHORT_LABELS } from "../lib/cohortCodec";
import { generateBundle } from "../lib/generateBundle";
import type { DatasetOption, JobDraft } from "../lib/jobForm";
import { datasetTitle } from "./Catalogue";

/** A catalogue row as a form option: only datasets a job can be created on now are selectable. */
function toOption(x: DatasetRow): DatasetOption {
  return {
    id: x.id, label: `#${x.id} · ${datasetTitle(x)}`, recordCount: x.recordCount, priceFloor: x.priceFloor, root: x.root,
    active: x.active && x.nodeActive && !x.nodeFrozen && x.bindingApproved,
    features: Array.isArray(x.profile?.features) ? x.profile!.features!.length : undefined,
  };
}

export default function MultiSite({ params }: { params: URLSearchParams }) {
  const cfg = useConfig();
  const conn = useConnection();
  const { chainId, d, walletOnWrongChain } = useDeployment();
  const ds = useDatasets();
  const bal = useReadContract({
    address: d.contracts.usdc, abi: erc20Abi, functionName: "balanceOf", chainId,
    args: conn.address ? [conn.address] : undefined, query: { enabled: !!conn.address && !walletOnWrongChain },
  });
  const ev = useJobEvents(conn.address ? { researcher: conn.address } : null, `researcher:${conn.address}`);
  const groups = useMemo(() => groupMultiSite(ev.data ?? []), [ev.data]);
  const options = useMemo(() => (ds.data ?? []).map(toOption), [ds.data]);
  const siteName = (id: bigint) => { const r = ds.data?.find((x) => x.id === id); return r ? `#${id} · ${datasetTitle(r)}` : `dataset #${id}`; };

  const [progress, setProgress] = useState<MultiProgress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [remaining, setRemaining] = useState<JobDraft[] | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function create(drafts: JobDraft[]) {
    setError(null); setDone(null); setRemaining(null);
    if (!conn.address) { setError("Connect a wallet first (top right)."); return; }
    if (walletOnWrongChain) { setError("Your wallet is on another network. Use the “Switch network” button first."); return; }
    try {
      const r = await createMultiSiteJobs({ drafts, ops: wagmiOps(cfg, chainId, d, conn.address), onProgress: setProgress, human: humanizeError });
      const how = r.method === "batch" ? "one USDC permit for the total, one transaction for every site" : r.method === "permit" ? "one USDC permit for the total" : r.method === "approve" ? "one approve for the total" : "the allowance already given";
      setDone(`${r.sites.length} jobs created and funded (${fmtUsdc(r.total)}, ${how}): ${r.sites.map((s) => `job #${s.jobId} on dataset #${s.datasetId}`).join(", ")}.`);
      bal.refetch(); ev.refetch();
      go("multisite", { group: String(r.sites[0]!.jobId) });
    } catch (e) {
      if (e instanceof MultiSiteCreateError) { setError(e.message); setRemaining(e.remaining); }
      else setError(humanizeError(e));
      ev.refetch();
    } finally { setProgress(null); }
  }

  const selected = params.get("group");
  return (
    <section>
      <h1>Multi-site job</h1>
      <p className="muted">
        One model trained at several hospitals on the same cohort: one job per dataset, funded with one signature for the total budget.
        Each hospital trains beside its own records; you combine the settled sites' weights here, in your browser, weighted by the records each proved on chain.
      </p>
      {!conn.isConnected && <div className="notice">Connect a wallet to create or follow multi-site jobs.</div>}
      {ds.error && <div className="error" role="alert">{humanizeError(ds.error)} <button onClick={() => ds.refetch()}>Retry</button></div>}
      <details className="card" open={progress !== null || params.get("new") !== null || !conn.address || (!!ev.data && groups.length === 0)}>
        <summary><strong>New multi-site job</strong></summary>
        {ds.isPending && <p className="muted">Loading datasets…</p>}
        {ds.data && <MultiSiteForm datasets={options} balance={bal.data} labels={COHORT_LABELS} onSubmit={create} submitting={progress !== null} generate={generateBundle} />}
      </details>
      {/* outside the form's <details>: still shown once the page moves to the new group */}
      {progress && <p className="notice" role="status" data-testid="multi-step">{progressLabel(progress)}</p>}
      {error && <div className="error" role="alert" data-testid="multi-error">{error}</div>}
      {remaining && (
        <button onClick={() => create(remaining)} disabled={progress !== null}>Create the remaining {remaining.length} site{remaining.length > 1 ? "s" : ""}</button>
      )}
      {done && <div className="ok" role="status" data-testid="multi-done">{done}</div>}
      <VaultBalance what="Refunds" />
      {ev.error && <div className="error" role="alert">{humanizeError(ev.error)} <button onClick={() => ev.refetch()}>Retry</button></div>}
      {ev.data && groups.length === 0 && conn.address && <p className="muted">No multi-site job yet.</p>}
      {groups.map((g) => (
        <GroupCard key={g.key} group={g} siteName={siteName} rows={ds.data ?? []} open={selected === null ? groups[0] === g : g.sites.some((x) => String(x.jobId) === selected)} />
      ))}
    </section>
  );
}

function GroupCard({ group, siteName, rows, open }: { group: MultiSiteGroup; siteName: (id: bigint) => string; rows: DatasetRow[]; open: boolean }) {
  const { chainId, d } = useDeployment();
  const pc = usePublicClient({ chainId }) as PublicClient | undefined;
  const tx = useTransactor<bigint>();
  const busy = tx.busy, msg = tx.outcome;
  const settled = group.sites.filter((s) => s.status === "settled");

  const cancel = (jobId: bigint) =>
    tx.send(jobId, async () => {
      const job = await readChainJob(pc!, d.contracts.jobRegistry, jobId, BigInt(d.startBlock ?? 0));
      return { address: d.contracts.jobRegistry, abi: jobRegistryAbi, functionName: "cancelJob", args: [jobId, job.terms] };
    }, { what: "The transaction", done: () => `Job #${jobId} cancelled: its escrow is refunded to your vault balance; the other sites are unaffected.` });

  return (
    <details className="card" open={open} data-testid={`group-${groupId(group)}`} style={{ marginTop: ".8rem" }}>
      <summary className="row">
        <strong>Multi-site job · {group.sites.length} sites</strong>
        <span className="muted">jobs {group.sites.map((s) => `#${s.jobId}`).join(", ")} · {settled.length} settled · {fmtUsdc(group.totals.escrow)} escrowed</span>
      </summary>
      <SiteTable group={group} siteName={siteName} onCancel={cancel} busy={busy} />
      {msg && <div className={msg.ok ? "ok" : "error"} role={msg.ok ? "status" : "alert"}>{msg.text}</div>}
      {settled.length > 0 && <CombinePanel group={group} siteName={siteName} rows={rows} />}
    </details>
  );
}

/** Download and decrypt every settled site's weights, combine them (FedAvg), evaluate on the researcher's held-out CSV. */
function CombinePanel({ group, siteName, rows }: { group: MultiSiteGroup; siteName: (id: bigint) => string; rows: DatasetRow[] }) {
  const cfg = useConfig();
  const conn = useConnection();
  const { chainId, d } = useDeployment();
  const [info, setInfo] = useState<BundleInfo | null>(null);
  const [bundleErr, setBundleErr] = useState<string | null>(null);
  const [sites, setSites] = useState<(SiteResult & { receiptOk: boolean | null })[] | null>(null);
  const [set, setSet] = useState<HeldOutSet | null>(null);
  const [csv, setCsv] = useState<string | null>(null);
  const [labelCol, setLabelCol] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const settled = group.sites.filter((s) => s.status === "settled");

  // the bundle from the jobs' modelURI, checked against the on-chain digest; a file pick when the host does not allow it
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const r = await fetch(group.modelURI);
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const i = bundleInfo(new Uint8Array(await r.arrayBuffer()), group.modelDigest);
        if (live) setInfo(i);
      } catch (e) {
        if (live) setBundleErr(`The bundle could not be read from ${group.modelURI} (${(e as Error).message}); pick the bundle file instead.`);
      }
    })();
    return () => { live = false; };
  }, [group.modelURI, group.modelDigest]);

  useEffect(() => {
    if (!csv || !info) return;
    try { setSet(parseHeldOutCsv(csv, info.features, labelCol || undefined)); setErr(null); }
    catch (e) { setSet(null); setErr((e as Error).message); }
  }, [csv, info, labelCol]);

  const evaluation = useMemo((): { ev?: Evaluation; err?: string } => {
    if (!info || !sites?.length || !set) return {};
    try { return { ev: evaluateSites(info, sites, set) }; } catch (e) { return { err: (e as Error).message }; }
  }, [info, sites, set]);

  async function pickBundle(f: File | undefined) {
    if (!f) return;
    try { setInfo(bundleInfo(new Uint8Array(await f.arrayBuffer()), group.modelDigest)); setBundleErr(null); }
    catch (e) { setBundleErr((e as Error).message); }
  }

  async function decryptAll() {
    setErr(null);
    try {
      const sign = (message: string) => signMessage(cfg, { account: conn.address!, message });
      const { openResult } = await import("@rapha/sdk/result");
      const out: (SiteResult & { receiptOk: boolean | null })[] = [];
      for (const s of settled) {
        const meta = rows.find((x) => x.node.toLowerCase() === s.node.toLowerCase())?.nodeMetadata ?? null;
        const base = agentBase(meta, d.agentUrl);
        if (!base) throw new Error(`${siteName(s.datasetId)} publishes no result endpoint.`);
        setBusy(`Sign in with Ethereum at ${siteName(s.datasetId)} (job #${s.jobId})…`);
        const r = await downloadResult({ base, address: conn.address!, chainId, jobId: s.jobId, signMessage: sign });
        setBusy("Deriving your result key (sign the key message if asked)…");
        const key = await getResultKey(conn.address!, sign);
        // bound to (chain, registry, job): a node cannot pass another job's result off as this site's
        const weights = openResult(bytesToHex(key.secretKey), r.encrypted as never, { chainId, jobRegistry: d.contracts.jobRegistry, jobId: s.jobId });
        const rc = r.receipt ? checkReceiptDocument(r.receipt) : null;
        out.push({ site: siteName(s.datasetId), jobId: s.jobId, weights, provenRecords: s.provenRecords, receiptOk: rc && s.receiptHash ? rc.receiptHash === s.receiptHash.toLowerCase() && rc.metricsMatch : null });
      }
      setSites(out);
    } catch (e) {
      setErr(humanizeError(e));
    } finally { setBusy(null); }
  }

  return (
    <div className="card" data-testid="combine-panel" style={{ marginTop: ".8rem" }}>
      <h3>Combined model</h3>
      <p className="muted">
        Weights of the {settled.length} settled site{settled.length > 1 ? "s" : ""} are downloaded from each hospital after Sign-In with Ethereum, decrypted here with your
        wallet-derived key, averaged (FedAvg, weighted by records proven on chain) and evaluated on your held-out CSV. Nothing leaves your browser.
      </p>
      {!info && (
        <label>Model bundle file (digest must be the jobs' model)
          <input type="file" aria-label="Bundle file for evaluation" accept=".json,application/json" onChange={(e) => pickBundle(e.target.files?.[0])} />
        </label>
      )}
      {!info && bundleErr && <p className="muted">{bundleErr}</p>}
      {info && <p className="muted" data-testid="bundle-info">Model: {info.spec.kind}, {info.features.length} features ({info.features.slice(0, 6).join(", ")}{info.features.length > 6 ? ", …" : ""}).</p>}
      <div className="row">
        <button onClick={decryptAll} disabled={!!busy || !conn.address}>Sign in at each site and decrypt</button>
        <label>Held-out set (CSV: the model's feature columns + a 0/1 label)
          <input type="file" aria-label="Held-out CSV" accept=".csv,text/csv" onChange={async (e) => { const f = e.target.files?.[0]; setCsv(f ? await f.text() : null); }} />
        </label>
        <label>Label column <input aria-label="Label column" placeholder="label" value={labelCol} onChange={(e) => setLabelCol(e.target.value)} style={{ width: "8em" }} /></label>
      </div>
      {busy && <p className="notice" role="status">{busy}</p>}
      {sites && (
        <p className="ok" data-testid="sites-decrypted">
          Decrypted {sites.length} site{sites.length > 1 ? "s" : ""}: {sites.map((s) => `job #${s.jobId} ${s.weights.length.toLocaleString("en-US")} bytes${s.receiptOk === null ? "" : s.receiptOk ? " (receipt ✔)" : " (receipt DOES NOT match)"}`).join("; ")}.
        </p>
      )}
      {set && <p className="muted" data-testid="heldout-info">Held-out set: {set.rows.length} rows, label column “{set.labelColumn}”.</p>}
      {(err || evaluation.err) && <div className="error" role="alert">{err ?? evaluation.err}</div>}
      {evaluation.ev && <EvaluationView ev={evaluation.ev} />}
    </div>
  );
}
