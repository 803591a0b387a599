import { useMemo } from "react";
import { useConnection, usePublicClient } from "wagmi";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { PublicClient } from "viem";
import { readChainJob } from "@rapha/sdk/calldata";
import { groupByJob, useDatasets, useJobEvents } from "../lib/chainData";
import { jobRegistryAbi } from "../lib/contracts";
import { useDeployment } from "../lib/rapha";
import { buildTimeline, progressBars, type ChainEvent } from "../lib/timeline";
import { agentBase, fetchProgress } from "../lib/agentApi";
import { fmtTime, fmtUsdc, shortAddr } from "../lib/format";
import { humanizeError } from "../lib/errors";
import { useTransactor } from "../lib/useTransactor";
import { PhaseBadge, Timeline } from "../components/Timeline";
import { VaultBalance } from "../components/VaultBalance";
import { ResultPanel } from "../components/ResultPanel";

/** JobRegistry.NO_BATCH_WINDOW and SETTLEMENT_GRACE (contract constants, docs/PROTOCOL.md "Jobs"). */
const NO_BATCH_WINDOW_SEC = 2 * 24 * 3600;
const SETTLEMENT_GRACE_SEC = 2 * 24 * 3600;

export default function MyJobs({ params }: { params: URLSearchParams }) {
  const conn = useConnection();
  const ev = useJobEvents(conn.address ? { researcher: conn.address } : null, `researcher:${conn.address}`);
  const jobs = useMemo(() => [...groupByJob(ev.data ?? []).entries()].sort((a, b) => (a[0] < b[0] ? 1 : -1)), [ev.data]);
  const selected = params.get("id");
  if (!conn.address) return <section><h1>My jobs</h1><p className="notice">Connect a wallet to see the jobs you created.</p></section>;
  return (
    <section>
      <h1>My jobs</h1>
      <VaultBalance what="Refunds" />
      {ev.isPending && <p className="muted">Reading job events…</p>}
      {ev.error && <div className="error" role="alert">{humanizeError(ev.error)} <button onClick={() => ev.refetch()}>Retry</button></div>}
      {ev.data && jobs.length === 0 && <p>You have not created any job yet. <a href="#/new">Create one</a>.</p>}
      {jobs.map(([id, evs]) => <JobCard key={String(id)} jobId={id} events={evs} open={selected === null ? jobs[0][0] === id : selected === String(id)} />)}
    </section>
  );
}

function JobCard({ jobId, events, open }: { jobId: bigint; events: ChainEvent[]; open: boolean }) {
  const { chainId, d } = useDeployment();
  const { items, phase } = buildTimeline(events);
  const created = events.find((e) => e.eventName === "JobCreated")?.args as Record<string, bigint | string> | undefined;
  const settled = events.find((e) => e.eventName === "JobSettled")?.args as Record<string, bigint | string> | undefined;
  const tx = useTransactor<"cancelJob" | "expireJob" | "exitIdleJob">();
  const busy = tx.busy, msg = tx.outcome;
  const pc = usePublicClient({ chainId }) as PublicClient | undefined;
  // status, spec and the terms every later call passes (rebuilt from events, checked against the chain)
  // a new event re-reads the job (new key); the previous answer stays shown meanwhile (its terms never change)
  const job = useQuery({ queryKey: ["chainJob", chainId, String(jobId), events.length], queryFn: () => readChainJob(pc!, d.contracts.jobRegistry, jobId, BigInt(d.startBlock ?? 0)), enabled: !!pc, refetchInterval: 5_000, placeholderData: keepPreviousData });
  // live progress from the hospital's agent while the job runs; unreachable agent: chain events alone
  const ds = useDatasets();
  const running = phase === "open" || phase === "accepted" || phase === "proving";
  const base = created ? agentBase(ds.data?.find((x) => x.node.toLowerCase() === String(created.node).toLowerCase())?.nodeMetadata ?? null, d.agentUrl) : null;
  const live = useQuery({ queryKey: ["agentProgress", base, String(jobId)], queryFn: () => fetchProgress(base!, jobId), enabled: !!base && running, refetchInterval: 3_000, retry: false });
  const liveNote = running && base && live.isError ? "Live progress unavailable (the hospital's agent did not answer); showing on-chain events only." : null;
  const now = Date.now() / 1000;
  const deadline = created ? Number(created.deadline) : 0;
  const proven = job.data ? job.data.provenCount : 0n;
  // JobRegistry v2: an accepted job with proven batches can be expired only after deadline + SETTLEMENT_GRACE (2 days),
  // so a node that proved in time can still settle; one with no batch, or never accepted, right after the deadline
  const expireAt = deadline + (proven > 0n ? SETTLEMENT_GRACE_SEC : 0);
  const canExpire = deadline > 0 && now > expireAt;
  // researcher exit: accepted, no batch within NO_BATCH_WINDOW (2 days) of acceptance → full refund
  const canExit = !!job.data && job.data.status === 2 && proven === 0n && job.data.acceptedAt > 0 && now > job.data.acceptedAt + NO_BATCH_WINDOW_SEC;

  const DONE = {
    cancelJob: "Cancelled: the escrow is refunded to your vault balance above.",
    exitIdleJob: "Left the job: the node sent no batch in time, the whole escrow is refunded to your vault balance above.",
    expireJob: "Expired: the refund is in your vault balance above.",
  };
  const act = (fn: "cancelJob" | "expireJob" | "exitIdleJob") =>
    tx.send(fn, async () => {
      // clicked before the job's terms were read: wait for them rather than refuse the click
      const j = job.data ?? (await job.refetch()).data;
      if (!j) throw new Error("The job could not be read from the chain; try again in a moment.");
      return { address: d.contracts.jobRegistry, abi: jobRegistryAbi, functionName: fn, args: [jobId, j.terms] };
    }, { what: "The transaction", done: () => DONE[fn] });

  return (
    <details className="card" open={open} data-testid={`job-${jobId}`} style={{ marginTop: ".8rem" }}>
      <summary className="row">
        <strong>Job #{String(jobId)}</strong> <PhaseBadge phase={phase} />
        {created && <span className="muted">dataset #{String(created.datasetId)} · {fmtUsdc(BigInt(created.escrow))} escrowed · deadline {fmtTime(BigInt(created.deadline))}</span>}
      </summary>
      {created && (
        <p className="muted mono">
          node {shortAddr(String(created.node))} · {fmtUsdc(BigInt(created.pricePerRecord))}/record · max {String(created.maxRecords)} records ·
          model {String(created.modelDigest).slice(0, 18)}… · cohort {String(created.cohortHash).slice(0, 18)}…
        </p>
      )}
      <Timeline items={items} phase={phase} chainId={chainId} progress={progressBars(live.data ?? null, phase)} liveNote={liveNote} />
      {job.data && (phase === "accepted" || phase === "proving") && (
        <p className="muted">Proven so far: {String(proven)} records.</p>
      )}
      {job.data?.accepted && (
        <p className="muted mono">enclave key {shortAddr(job.data.accepted.enclaveKey)} · attestation (quote hash) {job.data.accepted.attestationHash.slice(0, 18)}… pinned at acceptance</p>
      )}
      <div className="row">
        {phase === "open" && <button onClick={() => act("cancelJob")} disabled={!!busy}>{busy === "cancelJob" ? "Cancelling…" : "Cancel job (full refund)"}</button>}
        {canExit && phase === "accepted" && (
          <button onClick={() => act("exitIdleJob")} disabled={!!busy}>{busy === "exitIdleJob" ? "Leaving…" : "No batch from the node: leave the job (full refund)"}</button>
        )}
        {(phase === "open" || phase === "accepted" || phase === "proving") && canExpire && (
          <button onClick={() => act("expireJob")} disabled={!!busy}>{busy === "expireJob" ? "Expiring…" : "Expire and claim refund"}</button>
        )}
        <a href={`#/audit?q=${jobId}`}>Audit this job</a>
      </div>
      {msg && <div className={msg.ok ? "ok" : "error"} role={msg.ok ? "status" : "alert"}>{msg.text}</div>}
      {phase === "settled" && settled && <ResultPanel jobId={jobId} node={String(created?.node ?? settled.node)} receiptHash={String(settled.receiptHash) as `0x${string}`} />}
    </details>
  );
}
