import { REFUSED, type MultiSiteGroup, type SiteStatus } from "../lib/multiSite";
import type { Evaluation } from "../lib/heldOut";
import { fmtTime, fmtUsdc, shortAddr } from "../lib/format";
import { PHASE_LABEL } from "../lib/timeline";

const STATUS_LABEL: Record<SiteStatus, string> = { ...PHASE_LABEL, exited: "Left (no batch)" };

/** Per-site status, proven records, payout, fee and refund of one multi-site group (from chain events). */
export function SiteTable({ group, siteName, onCancel, busy }: {
  group: MultiSiteGroup;
  siteName: (datasetId: bigint) => string;
  onCancel?: (jobId: bigint) => void;
  busy?: bigint | null;
}) {
  const t = group.totals;
  return (
    <>
      <p className="muted mono">
        model {group.modelDigest.slice(0, 18)}… · cohort {group.cohortHash.slice(0, 18)}… · deadline {fmtTime(group.deadline)}
      </p>
      <table data-testid="site-table">
        <thead><tr><th>Site</th><th>Job</th><th>Status</th><th>Escrow</th><th>Proven records</th><th>To the hospital</th><th>Fee</th><th>Refund</th><th /></tr></thead>
        <tbody>
          {group.sites.map((s) => (
            <tr key={String(s.jobId)} data-testid={`site-${s.jobId}`} data-status={s.status}>
              <td>{siteName(s.datasetId)}<div className="muted mono">node {shortAddr(s.node)}</div></td>
              <td><a href={`#/jobs?id=${s.jobId}`}>#{String(s.jobId)}</a></td>
              <td><span className={`badge ${s.status}`}>{STATUS_LABEL[s.status]}</span>{s.note && <div className="muted">{s.note}</div>}</td>
              <td>{fmtUsdc(s.escrow)}</td>
              <td>{String(s.provenRecords)}</td>
              <td>{fmtUsdc(s.nodeAmount)}</td>
              <td>{fmtUsdc(s.fee)}</td>
              <td>{fmtUsdc(s.refund)}</td>
              <td>{s.status === "open" && onCancel && (
                <button onClick={() => onCancel(s.jobId)} disabled={busy === s.jobId}>{busy === s.jobId ? "Cancelling…" : "Cancel this site (full refund)"}</button>
              )}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-testid="group-totals"><th colSpan={3}>All sites</th><th>{fmtUsdc(t.escrow)}</th><th>{String(t.provenRecords)}</th><th>{fmtUsdc(t.nodeAmount)}</th><th>{fmtUsdc(t.fee)}</th><th>{fmtUsdc(t.refund)}</th><th /></tr>
        </tfoot>
      </table>
      {group.sites.some((s) => REFUSED.has(s.status)) && (
        <p className="muted">Sites that refused or never ran are refunded in full and left out of the combined model; the other sites are unaffected.</p>
      )}
    </>
  );
}

const num = (v: number) => v.toFixed(3);

/** Held-out metrics of each site's model and of the federated average, with an AUC bar chart. */
export function EvaluationView({ ev }: { ev: Evaluation }) {
  const rows = [
    ...ev.perSite.map((s) => ({ key: String(s.jobId), name: `${s.site} (job #${s.jobId})`, records: s.provenRecords, share: s.share, m: s.metrics })),
    { key: "combined", name: "Combined (FedAvg)", records: ev.combined.totalRecords, share: 1, m: ev.combined.metrics },
  ];
  return (
    <div data-testid="evaluation">
      <table>
        <thead><tr><th>Model</th><th>Proven records</th><th>Weight</th><th>AUC</th><th>Accuracy</th><th>BCE</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid={`eval-${r.key}`}>
              <td>{r.name}</td><td>{String(r.records)}</td><td>{(r.share * 100).toFixed(1)} %</td>
              <td>{num(r.m.auc)}</td><td>{num(r.m.accuracy)}</td><td>{num(r.m.bce)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Held-out set: {ev.combined.metrics.n} rows, prevalence {(ev.combined.metrics.prevalence * 100).toFixed(1)} %, baseline BCE {num(ev.combined.metrics.baselineBce)} (always predicting the prevalence).</p>
      <AucBars bars={rows.map((r) => ({ label: r.key === "combined" ? "combined" : `#${r.key}`, value: r.m.auc, strong: r.key === "combined" }))} />
    </div>
  );
}

/** Small SVG bar chart (LossChart's style): AUC per model, 0.5 marked. */
export function AucBars({ bars, width = 420, height = 160 }: { bars: { label: string; value: number; strong?: boolean }[]; width?: number; height?: number }) {
  const pad = 28, bw = Math.min(60, (width - pad - 8) / bars.length - 10);
  const y = (v: number) => 8 + (height - pad - 8) * (1 - Math.max(0, Math.min(1, v)));
  return (
    <svg className="chart" width={width} height={height} role="img" aria-label="AUC per model">
      <line x1={pad} y1={height - pad} x2={width - 8} y2={height - pad} stroke="#9aa8b7" />
      <line x1={pad} y1={y(0.5)} x2={width - 8} y2={y(0.5)} stroke="#c9d3dd" strokeDasharray="4 3" />
      <text x={2} y={y(1) + 4} fontSize="10" fill="#6a7785">1.0</text>
      <text x={2} y={y(0.5) + 4} fontSize="10" fill="#6a7785">0.5</text>
      {bars.map((b, i) => {
        const x = pad + 8 + i * (bw + 10);
        return (
          <g key={b.label}>
            <rect x={x} y={y(b.value)} width={bw} height={height - pad - y(b.value)} fill={b.strong ? "#2c6a8f" : "#8fb8cf"} />
            <text x={x + bw / 2} y={y(b.value) - 3} fontSize="10" fill="#2c3e50" textAnchor="middle">{b.value.toFixed(2)}</text>
            <text x={x + bw / 2} y={height - pad + 12} fontSize="10" fill="#6a7785" textAnchor="middle">{b.label}</text>
          </g>
        );
      })}
    </svg>
  );
}
