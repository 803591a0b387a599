import { useMemo, useState } from "react";
import { CohortForm, type CohortLabels } from "./CohortForm";
import { BundlePicker, type PickedBundle } from "./BundlePicker";
import { DEFAULT_COHORT } from "../lib/cohort";
import { computeBudget, type DatasetOption, type JobDraft } from "../lib/jobForm";
import { validateMultiSite, type MultiSiteValues } from "../lib/multiSite";
import { fmtUsdc, unixToLocalInput } from "../lib/format";

export interface MultiSiteFormProps {
  datasets: DatasetOption[];
  balance?: bigint;
  labels: CohortLabels;
  onSubmit: (drafts: JobDraft[], total: bigint) => void;
  submitting?: boolean;
  generate?: Parameters<typeof BundlePicker>[0]["generate"];
  now?: () => number;
}

/** One model, cohort, price and max records for several datasets; the total budget is one permit. */
export function MultiSiteForm(p: MultiSiteFormProps) {
  const now = p.now ?? (() => Math.floor(Date.now() / 1000));
  const [bundle, setBundle] = useState<PickedBundle | null>(null);
  const [v, setV] = useState<MultiSiteValues>(() => ({
    datasetIds: [], bundleDigest: "", bundleUri: "", cohort: DEFAULT_COHORT, price: "0.05", maxRecords: "1000",
    deadline: unixToLocalInput(now() + 7 * 86400),
  }));
  const [touched, setTouched] = useState(false);
  const values = { ...v, bundleDigest: bundle?.digest ?? "" } as MultiSiteValues;
  const result = useMemo(() => validateMultiSite(values, { datasets: p.datasets, balance: p.balance, nowSec: now() }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [JSON.stringify(values), p.datasets, p.balance]);
  const perSite = computeBudget(v.price, v.maxRecords);
  const n = v.datasetIds.length;
  const features = p.datasets.find((d) => String(d.id) === v.datasetIds[0])?.features;
  const err = (k: string) => (touched && result.errors[k] ? <span className="error-text" role="alert" style={{ color: "#a3261a" }}>{result.errors[k]}</span> : null);
  const toggle = (id: string, on: boolean) => setV((x) => ({ ...x, datasetIds: on ? [...x.datasetIds, id] : x.datasetIds.filter((y) => y !== id) }));

  return (
    <form onSubmit={(e) => { e.preventDefault(); setTouched(true); if (result.drafts) p.onSubmit(result.drafts, result.total!); }}>
      <fieldset aria-label="Datasets">
        <legend>Datasets (one job per hospital)</legend>
        {p.datasets.map((d) => (
          <div key={String(d.id)}>
            <label className="row">
              <input type="checkbox" aria-label={`Site ${d.label}`} disabled={!d.active} checked={v.datasetIds.includes(String(d.id))} onChange={(e) => toggle(String(d.id), e.target.checked)} />
              {d.label} <span className="muted">· {String(d.recordCount)} records · floor {fmtUsdc(d.priceFloor)}/record{!d.active && " · not available"}</span>
            </label>
            {err(`site:${d.id}`)}
          </div>
        ))}
        {err("datasets")}
      </fieldset>

      <BundlePicker value={bundle} onChange={setBundle} generate={p.generate} defaultInputDim={features} />
      {err("bundle")}
      <fieldset>
        <legend>Where the nodes fetch the bundle</legend>
        <label>Bundle URI
          <input aria-label="Bundle URI" placeholder="https://… or ipfs://…" value={v.bundleUri} onChange={(e) => setV({ ...v, bundleUri: e.target.value })} />
        </label>
        {err("bundleUri")}
      </fieldset>

      <CohortForm value={v.cohort} onChange={(c) => setV({ ...v, cohort: c })} labels={p.labels} />
      {err("cohort")}

      <fieldset>
        <legend>Terms (the same at every site)</legend>
        <div className="form">
          <label>Price per record (USDC)
            <input aria-label="Price per record" inputMode="decimal" value={v.price} onChange={(e) => setV({ ...v, price: e.target.value })} />
            {err("price")}
          </label>
          <label>Max records per site
            <input aria-label="Max records per site" inputMode="numeric" value={v.maxRecords} onChange={(e) => setV({ ...v, maxRecords: e.target.value })} />
            {err("maxRecords")}
          </label>
          <label>Deadline
            <input aria-label="Deadline" type="datetime-local" value={v.deadline} onChange={(e) => setV({ ...v, deadline: e.target.value })} />
            {err("deadline")}
          </label>
        </div>
        <p data-testid="total-budget">
          Total budget: <strong>{perSite === null || n === 0 ? "—" : `${fmtUsdc(perSite * BigInt(n))}`}</strong>
          {perSite !== null && n > 0 && <span className="muted"> = {n} site{n > 1 ? "s" : ""} × {fmtUsdc(perSite)}</span>}
          {p.balance !== undefined && <span className="muted"> · wallet holds {fmtUsdc(p.balance)}</span>}
          <br /><span className="muted">One permit signature covers the total. Each site is paid only for the records it proves; the rest, and the whole escrow of a site that refuses, is refunded.</span>
        </p>
        {err("budget")}
      </fieldset>
      <button type="submit" disabled={p.submitting}>Sign once and create {n > 1 ? `${n} jobs` : "the jobs"}</button>
    </form>
  );
}
