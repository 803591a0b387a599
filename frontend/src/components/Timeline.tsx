import { txLink } from "../lib/config";
import { PHASE_LABEL, pendingSteps, type JobPhase, type ProgressBar, type TimelineItem } from "../lib/timeline";
import { shortHash } from "../lib/format";

export function PhaseBadge({ phase }: { phase: JobPhase }) {
  return <span className={`badge ${phase}`} data-testid="phase">{PHASE_LABEL[phase]}</span>;
}

/**
 * On-chain events, then the hospital agent's live progress bars (if it answered), then the pending
 * steps. `liveNote` says why there are no bars (agent unreachable): the chain events stand alone.
 */
export function Timeline({ items, phase, chainId, progress = [], liveNote }: { items: TimelineItem[]; phase: JobPhase; chainId: number; progress?: ProgressBar[]; liveNote?: string | null }) {
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
      {progress.map((b) => (
        <li key={b.key} className="live" data-testid={`progress-${b.key}`}>
          <strong>{b.label}</strong> <span className="muted">(live from the hospital)</span>
          <div><progress value={b.value} max={Math.max(1, b.max)} aria-label={b.label} /> {b.detail}</div>
        </li>
      ))}
      {liveNote && <li className="muted" data-testid="progress-unavailable">{liveNote}</li>}
      {pendingSteps(phase).map((s) => (
        <li key={s} className="pending">{s} <span className="muted">(pending)</span></li>
      ))}
    </ol>
  );
}
