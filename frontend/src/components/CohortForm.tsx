import type { CohortDefinition } from "../lib/cohort";

export interface CohortLabels {
  conditions: string[]; // index = bit
  observations: string[]; // index = bit
  /** what the bits mean for this kind of dataset (EHR: conditions and observations; imaging: modalities and body regions) */
  conditionsHeading?: string;
  observationsHeading?: string;
}

function toggle(list: number[], b: number, on: boolean): number[] {
  const s = new Set(list);
  if (on) s.add(b); else s.delete(b);
  return [...s].sort((x, y) => x - y);
}

/** Edits a cohort predicate. Consent is always required and is not a choice. */
export function CohortForm({ value, onChange, labels }: { value: CohortDefinition; onChange: (c: CohortDefinition) => void; labels: CohortLabels }) {
  const num = (s: string) => (s === "" ? NaN : Number(s));
  return (
    <fieldset aria-label="Cohort">
      <legend>Cohort</legend>
      <div className="form">
        <label>Minimum age
          <input type="number" min={0} max={127} value={Number.isNaN(value.ageMin) ? "" : value.ageMin} onChange={(e) => onChange({ ...value, ageMin: num(e.target.value) })} />
        </label>
        <label>Maximum age
          <input type="number" min={0} max={127} value={Number.isNaN(value.ageMax) ? "" : value.ageMax} onChange={(e) => onChange({ ...value, ageMax: num(e.target.value) })} />
        </label>
      </div>
      <p className="muted">Sex</p>
      <div className="checks">
        {(["female", "male", "other"] as const).map((k) => (
          <label key={k}>
            <input type="checkbox" checked={value.sex[k]} onChange={(e) => onChange({ ...value, sex: { ...value.sex, [k]: e.target.checked } })} />
            {k === "other" ? "other / unknown" : k}
          </label>
        ))}
      </div>
      <p className="muted">{labels.conditionsHeading ?? "Has at least one of these conditions (none ticked = no requirement)"}</p>
      <div className="checks">
        {labels.conditions.map((l, b) => (
          <label key={b}>
            <input type="checkbox" checked={value.conditionsAny.includes(b)} onChange={(e) => onChange({ ...value, conditionsAny: toggle(value.conditionsAny, b, e.target.checked) })} />
            {l}
          </label>
        ))}
      </div>
      <p className="muted">{labels.observationsHeading ?? "Has all of these observations"}</p>
      <div className="checks">
        {labels.observations.map((l, b) => (
          <label key={b}>
            <input type="checkbox" checked={value.observationsAll.includes(b)} onChange={(e) => onChange({ ...value, observationsAll: toggle(value.observationsAll, b, e.target.checked) })} />
            {l}
          </label>
        ))}
      </div>
      <p className="muted">Only records whose patient consented are ever used: consent is not optional.</p>
    </fieldset>
  );
}
