import { txLink } from "../lib/config";
import { PHASE_LABEL, pendingSteps, type JobPhase, type TimelineItem } from "../lib/timeline";
import { shortHash } from "../lib/format";

export function PhaseBadge({ phase }: { phase: JobPhase }) {
  return <span className={`badge ${phase}`} data-testid="phase">{PHASE_LABEL[phase]}</span>;
}

export function Timeline({ items, phase, chainId }: { items: TimelineItem[]; phase: JobPhase; chainId: number }) {
  return (
    <ol className="timeline" aria-label="Job timeline">
      {items.map((it) => {
        const link = it.tx ? txLink(chainId, it.tx) : undefined;
        return (
          <li key={it.key} className={`tone-${it.tone}`} data-kind={it.kind}>
            <strong>{it.title}</strong> — {it.detail}
            {it.tx && (
              <div className="muted mono">
                tx {link ? <a href={link} target="_blank" rel="noreferrer">{shortHash(it.tx)}</a> : shortHash(it.tx)}
                {it.block !== null && ` · block ${it.block}`}
              </div>
            )}
          </li>
        );
      })}
      {pendingSteps(phase).map((s) => (
        <li key={s} className="pending">{s} <span className="muted">(pending)</span></li>
      ))}
    </ol>
  );
}
