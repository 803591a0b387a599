import { useMemo, useRef, useState, type ReactNode } from "react";
import { CohortForm, type CohortLabels } from "./CohortForm";
import { IMAGING_COHORT_LABELS } from "../lib/imaging";
import { BundlePicker, type PickedBundle } from "./BundlePicker";
import { DEFAULT_COHORT, type CohortDefinition } from "../lib/cohort";
import { computeBudget, validateJobForm, type DatasetOption, type JobDraft, type JobFormValues } from "../lib/jobForm";
import { fmtUsdc, unixToLocalInput } from "../lib/format";

export interface JobFormProps {
  datasets: DatasetOption[];
  initialDatasetId?: string;
  balance?: bigint;
  labels: CohortLabels;
  onSubmit: (d: JobDraft) => void;
  submitting?: boolean;
  submitLabel?: string;
  generate?: Parameters<typeof BundlePicker>[0]["generate"];
  now?: () => number;
  /** renders the hospital's record count for the chosen dataset and cohort (components/Feasibility); `onCount` sets the max-records default until the user types one */
  feasibility?: (a: { datasetId: string; cohort: CohortDefinition; onCount: (n: number | null) => void }) => ReactNode;
}

export function JobForm(p: JobFormProps) {
  const now = p.now ?? (() => Math.floor(Date.now() / 1000));
  const [bundle, setBundle] = useState<PickedBundle | null>(null);
  const [v, setV] = useState<JobFormValues>(() => ({
    datasetId: p.initialDatasetId ?? (p.datasets.length === 1 ? String(p.datasets[0].id) : ""),
    bundleDigest: "",
    bundleUri: "",
    cohort: DEFAULT_COHORT,
    price: "0.05",
    maxRecords: "1000",
    deadline: unixToLocalInput(now() + 7 * 86400),
  }));
  const [touched, setTouched] = useState(false);
  // a ref, not state: a count that arrives after the user typed a max must not overwrite it
  const maxEdited = useRef(false);
  const values = { ...v, bundleDigest: bundle?.digest ?? "" } as JobFormValues;
  const result = useMemo(() => validateJobForm(values, { datasets: p.datasets, balance: p.balance, nowSec: now() }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [JSON.stringify(values), p.datasets, p.balance]);
  const budget = computeBudget(v.price, v.maxRecords);
  const ds = p.datasets.find((d) => String(d.id) === v.datasetId);
  const show = (k: string) => (touched && result.errors[k] ? <span className="error-text" role="alert" style={{ color: "#a3261a" }}>{result.errors[k]}</span> : null);

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        setTouched(true);
        if (result.draft) p.onSubmit(result.draft);
      }}
    >
      <fieldset>
        <legend>Dataset</legend>
        <label>Dataset
          <select aria-label="Dataset" value={v.datasetId} onChange={(e) => setV({ ...v, datasetId: e.target.value })}>
            <option value="">— choose —</option>
            {p.datasets.map((d) => (
              <option key={String(d.id)} value={String(d.id)} disabled={!d.active}>{d.label}</option>
            ))}
          </select>
        </label>
        {ds && <p className="muted">{String(ds.recordCount)} records · price floor {fmtUsdc(ds.priceFloor)} per record</p>}
        {show("datasetId")}
      </fieldset>

      <BundlePicker value={bundle} onChange={(b) => {
        setBundle(b);
        if (b && !v.bundleUri) setV((x) => ({ ...x, bundleUri: "" }));
      }} generate={p.generate} defaultInputDim={ds?.features} imaging={ds?.imaging} />
      {show("bundle")}
      <fieldset>
        <legend>Where the node fetches the bundle</legend>
        <div className="row">
          <label style={{ flex: 1 }}>Bundle URI
            <input aria-label="Bundle URI" placeholder="https://… or ipfs://…" value={v.bundleUri} onChange={(e) => setV({ ...v, bundleUri: e.target.value })} />
          </label>
        </div>
        <p className="muted">Host the bundle file (use “Download bundle” for a generated one) at an https:// or ipfs:// address the hospital node can reach. The node checks the fetched bytes against the digest above, so the host need not be trusted.</p>
        {show("bundleUri")}
      </fieldset>

      <CohortForm value={v.cohort} onChange={(c) => setV({ ...v, cohort: c })} labels={ds?.imaging ? IMAGING_COHORT_LABELS : p.labels} />
      {show("cohort")}
      {p.feasibility?.({ datasetId: v.datasetId, cohort: v.cohort, onCount: (n) => { if (n !== null && !maxEdited.current) setV((x) => ({ ...x, maxRecords: String(n) })); } })}

      <fieldset>
        <legend>Terms</legend>
        <div className="form">
          <label>Price per record (USDC)
            <input aria-label="Price per record" inputMode="decimal" value={v.price} onChange={(e) => setV({ ...v, price: e.target.value })} />
            {show("price")}
          </label>
          <label>Max records
            <input aria-label="Max records" inputMode="numeric" value={v.maxRecords} onChange={(e) => { maxEdited.current = true; setV({ ...v, maxRecords: e.target.value }); }} />
            {show("maxRecords")}
          </label>
          <label>Deadline
            <input aria-label="Deadline" type="datetime-local" value={v.deadline} onChange={(e) => setV({ ...v, deadline: e.target.value })} />
            {show("deadline")}
          </label>
        </div>
        <p data-testid="budget">
          Budget escrowed: <strong>{budget === null ? "—" : fmtUsdc(budget)}</strong>
          {p.balance !== undefined && <span className="muted"> · wallet holds {fmtUsdc(p.balance)}</span>}
          <br /><span className="muted">You pay only for records the hospital proves it used; the rest is refunded.</span>
        </p>
        {show("budget")}
      </fieldset>
      <button type="submit" disabled={p.submitting}>{p.submitLabel ?? "Create job"}</button>
    </form>
  );
}
