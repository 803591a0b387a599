import { useMemo, useState } from "react";
import { useConfig, useConnection, useReadContract, useSwitchChain } from "wagmi";
import { erc20Abi } from "viem";
import { JobForm } from "../components/JobForm";
import { Feasibility } from "../components/Feasibility";
import { agentBase } from "../lib/agentApi";
import { useDatasets } from "../lib/chainData";
import { useDeployment } from "../lib/rapha";
import { createJobFlow, STEP_LABEL, type Step } from "../lib/createJob";
import { humanizeError } from "../lib/errors";
import { fmtUsdc } from "../lib/format";
import { go } from "../lib/route";
import { datasetTitle } from "./Catalogue";
import { COHORT_LABELS } from "../lib/cohortCodec";
import { generateBundle } from "../lib/generateBundle";
import { isImagingProfile } from "../lib/imaging";
import type { JobDraft } from "../lib/jobForm";
import { KNOWN_CHAINS } from "../lib/config";

export default function NewJob({ params }: { params: URLSearchParams }) {
  const cfg = useConfig();
  const conn = useConnection();
  const { chainId, d, walletOnWrongChain } = useDeployment();
  const switchChain = useSwitchChain();
  const ds = useDatasets();
  const bal = useReadContract({
    address: d.contracts.usdc, abi: erc20Abi, functionName: "balanceOf", chainId,
    args: conn.address ? [conn.address] : undefined, query: { enabled: !!conn.address && !walletOnWrongChain },
  });
  const [step, setStep] = useState<Step | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<{ jobId: bigint; method: string } | null>(null);

  const options = useMemo(() => (ds.data ?? []).map((x) => ({
    id: x.id, label: `#${x.id} · ${datasetTitle(x)}`, recordCount: x.recordCount, priceFloor: x.priceFloor, root: x.root,
    active: x.active && x.nodeActive && !x.nodeFrozen && x.bindingApproved,
    features: Array.isArray(x.profile?.features) ? x.profile!.features!.length : undefined,
    imaging: isImagingProfile(x.profile),
  })), [ds.data]);

  async function submit(draft: JobDraft) {
    setError(null); setDone(null);
    if (!conn.address) { setError("Connect a wallet first (top right)."); return; }
    if (walletOnWrongChain) { setError("Your wallet is on another network. Use the “Switch network” button first."); return; }
    try {
      const r = await createJobFlow({ cfg, chainId, d, account: conn.address, draft, onStep: setStep });
      setDone({ jobId: r.jobId, method: r.method });
      bal.refetch();
      setTimeout(() => go("jobs", { id: String(r.jobId) }), 1200);
    } catch (e) {
      setError(humanizeError(e));
    } finally {
      setStep(null);
    }
  }

  return (
    <section>
      <h1>New training job</h1>
      {!conn.isConnected && <div className="notice">Connect a wallet to create a job. You can fill the form first.</div>}
      {walletOnWrongChain && (
        <div className="error" role="alert">
          Your wallet is on the wrong network.{" "}
          <button onClick={() => switchChain.mutate({ chainId })}>Switch to {KNOWN_CHAINS[chainId]?.name}</button>
        </div>
      )}
      {ds.isPending && <p className="muted">Loading datasets…</p>}
      {ds.error && <div className="error" role="alert">{humanizeError(ds.error)} <button onClick={() => ds.refetch()}>Retry</button></div>}
      {ds.data && (
        <JobForm
          datasets={options}
          initialDatasetId={params.get("dataset") ?? undefined}
          balance={bal.data}
          labels={COHORT_LABELS}
          onSubmit={submit}
          submitting={step !== null}
          submitLabel="Sign and create job"
          generate={generateBundle}
          feasibility={({ datasetId, cohort, onCount }) => {
            const x = ds.data.find((r) => String(r.id) === datasetId);
            return <Feasibility target={x ? { datasetId: x.id, node: x.node, base: agentBase(x.nodeMetadata, d.agentUrl) } : null} cohort={cohort} chainId={chainId} onCount={onCount} />;
          }}
        />
      )}
      {step && <p className="notice" role="status" data-testid="create-step">{STEP_LABEL[step]}</p>}
      {error && <div className="error" role="alert" data-testid="create-error">{error}</div>}
      {done && (
        <div className="ok" role="status" data-testid="create-done">
          Job #{String(done.jobId)} created and funded ({done.method === "permit" ? "USDC permit, one transaction" : "approve + create"}).{" "}
          <a href={`#/jobs?id=${done.jobId}`}>Follow it</a>
        </div>
      )}
      <p className="muted">Balance: {bal.data !== undefined ? fmtUsdc(bal.data) : "—"}. Signatures: one message (your result key, once per session), one permit, one transaction.</p>
    </section>
  );
}
