import { useEffect, useState } from "react";
import type { Address } from "viem";
import type { FeasibilityAnswer } from "@rapha/sdk/feasibility";
import { queryFeasibility } from "../lib/agentApi";
import { encodeCohortSync } from "../lib/cohortCodec";
import { validateCohort, type CohortDefinition } from "../lib/cohort";

export interface FeasibilityProps {
  /** the chosen dataset's node and agent endpoint (null: the node publishes none) */
  target: { datasetId: bigint; node: Address; base: string | null } | null;
  cohort: CohortDefinition;
  chainId: number;
  /** the count the max-records default follows (null: no usable count) */
  onCount?: (n: number | null) => void;
  /** wait this long after the last edit before asking (the node rate-limits) */
  debounceMs?: number;
  query?: typeof queryFeasibility;
}

type State = { kind: "idle" } | { kind: "asking" } | { kind: "answer"; a: FeasibilityAnswer } | { kind: "error"; text: string };

/** "How many records match?" before escrow: the hospital's signed, rounded count for the cohort. */
export function Feasibility({ target, cohort, chainId, onCount, debounceMs = 600, query = queryFeasibility }: FeasibilityProps) {
  const [s, setS] = useState<State>({ kind: "idle" });
  const valid = validateCohort(cohort).length === 0;
  const key = target && valid ? `${target.datasetId}:${encodeCohortSync(cohort).cohortParams}` : null;
  useEffect(() => {
    if (!target || !key) { setS({ kind: "idle" }); return; }
    if (!target.base) { setS({ kind: "error", text: "This hospital publishes no agent endpoint, so it cannot be asked before you pay." }); onCount?.(null); return; }
    let live = true;
    const t = setTimeout(async () => {
      setS({ kind: "asking" });
      try {
        const a = await query({ base: target.base!, chainId, node: target.node, datasetId: target.datasetId, cohortParams: encodeCohortSync(cohort).cohortParams });
        if (!live) return;
        setS({ kind: "answer", a });
        onCount?.(a.fewerThan ? null : a.value);
      } catch (e) {
        if (!live) return;
        setS({ kind: "error", text: (e as Error).message });
        onCount?.(null);
      }
    }, debounceMs);
    return () => { live = false; clearTimeout(t); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, target?.base, chainId]);

  if (s.kind === "idle") return null;
  return (
    <div className="notice" data-testid="feasibility" role="status">
      {s.kind === "asking" && <span className="muted">Asking the hospital how many records match…</span>}
      {s.kind === "answer" && (s.a.fewerThan
        ? <span><strong>Fewer than {s.a.value}</strong> consented records match this cohort: below the hospital's minimum, so it would reject the job. Widen the cohort.</span>
        : <span>About <strong>{s.a.value}</strong> consented, eligible records match this cohort (rounded to {s.a.roundTo}{s.a.noiseScaleMilli > 0 ? ", with privacy noise" : ""}; signed by the hospital's node).</span>)}
      {s.kind === "error" && <span className="muted">No record count: {s.text}</span>}
    </div>
  );
}
