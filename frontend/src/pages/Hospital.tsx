import { useMemo } from "react";
import { useConnection, useReadContract } from "wagmi";
import { groupByJob, useDatasets, useJobEvents } from "../lib/chainData";
import { nodeRegistryAbi } from "../lib/contracts";
import { useDeployment } from "../lib/rapha";
import { buildTimeline } from "../lib/timeline";
import { ATTESTATION_TYPES, sizeBand, statedDataBasis } from "../lib/profile";
import { fmtUsdc, shortAddr } from "../lib/format";
import { humanizeError } from "../lib/errors";
import { PhaseBadge } from "../components/Timeline";
import { VaultBalance } from "../components/VaultBalance";
import { datasetTitle } from "./Catalogue";

export default function Hospital() {
  const conn = useConnection();
  const { chainId, d } = useDeployment();
  const node = useReadContract({
    address: d.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "getNode", chainId,
    args: conn.address ? [conn.address] : undefined, query: { enabled: !!conn.address },
  });
  const ds = useDatasets();
  const ev = useJobEvents(conn.address ? { node: conn.address } : null, `node:${conn.address}`);
  const jobs = useMemo(() => [...groupByJob(ev.data ?? []).entries()].sort((a, b) => (a[0] < b[0] ? 1 : -1)), [ev.data]);
  const earnings = useMemo(() => (ev.data ?? [])
    .filter((e) => e.eventName === "JobSettled" || e.eventName === "JobExpired")
    .reduce((s, e) => s + BigInt((e.args.nodeAmount as bigint) ?? 0n), 0n), [ev.data]);
  if (!conn.address) return <section><h1>Hospital</h1><p className="notice">Connect the node operator's wallet to see its node, datasets and earnings.</p></section>;
  const n = node.data;
  const mine = (ds.data ?? []).filter((x) => x.node.toLowerCase() === conn.address!.toLowerCase());
  return (
    <section>
      <h1>Hospital node</h1>
      {node.error && <div className="error" role="alert">{humanizeError(node.error)}</div>}
      {n && !n.registered && <p className="notice">This account operates no registered node. Nodes register with the agent CLI: <code>rapha-node register</code>.</p>}
      {n?.registered && (
        <div className="card">
          <table><tbody>
            <tr><th>Operator</th><td className="mono">{conn.address}</td></tr>
            <tr><th>Status</th><td>{n.frozen ? "FROZEN by governance (unsettled jobs pay nothing)" : n.active ? "active" : "deactivated by governance"}</td></tr>
            <tr><th>Attestation</th><td>{ATTESTATION_TYPES[Number(n.attestationType)]} · measurement <code>{String(n.measurement).slice(0, 18)}…</code> · quote hash <code>{String(n.quoteHash).slice(0, 18)}…</code></td></tr>
            <tr><th>Enclave key</th><td className="mono">{shortAddr(n.enclaveKey)} · {n.bindingApproved ? "binding approved by governance" : "PENDING governance approval (no jobs until approved)"}</td></tr>
          </tbody></table>
        </div>
      )}
      <h2>Earnings</h2>
      <p>Earned (net of protocol fee) across settled and expired jobs: <strong data-testid="earnings">{fmtUsdc(earnings)}</strong></p>
      <VaultBalance what="Earnings" />
      <h2>Datasets</h2>
      {mine.length === 0 ? <p className="muted">No dataset registered by this account.</p> : (
        <table data-testid="my-datasets"><thead><tr><th>#</th><th>Name</th><th>Records</th><th>Consent (as researchers see it)</th><th>Floor</th><th>Status</th></tr></thead><tbody>
          {mine.map((x) => {
            const b = statedDataBasis(x.profile);
            return (
              <tr key={String(x.id)}><td>{String(x.id)}</td><td>{datasetTitle(x)}</td><td>{String(x.recordCount)} ({sizeBand(x.recordCount)})</td>
                <td title={b ? `${b.consentModel}: ${b.consentLabel}` : undefined}>{b ? b.consentName : "not stated in the profile"}</td>
                <td>{fmtUsdc(x.priceFloor)}</td><td>{x.active ? "listed" : "delisted"}</td></tr>
            );
          })}
        </tbody></table>
      )}
      <h2>Jobs served</h2>
      {ev.error && <div className="error" role="alert">{humanizeError(ev.error)}</div>}
      {ev.data && jobs.length === 0 && <p className="muted">No job has targeted this node yet.</p>}
      {jobs.length > 0 && (
        <table data-testid="jobs-served"><thead><tr><th>Job</th><th>Researcher</th><th>Status</th><th>Last event</th></tr></thead><tbody>
          {jobs.map(([id, evs]) => {
            const t = buildTimeline(evs, "other");
            const last = t.items[t.items.length - 1];
            return (
              <tr key={String(id)}>
                <td><a href={`#/audit?q=${id}`}>#{String(id)}</a></td>
                <td className="mono">{shortAddr(String(evs[0].args.researcher))}</td>
                <td><PhaseBadge phase={t.phase} /></td>
                <td>{last ? `${last.title}: ${last.detail}` : ""}</td>
              </tr>
            );
          })}
        </tbody></table>
      )}
    </section>
  );
}
