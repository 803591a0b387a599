import { useState } from "react";
import { useDatasets, type DatasetRow } from "../lib/chainData";
import { ATTESTATION_TYPES, matchesQuery, sizeBand, statedDataBasis } from "../lib/profile";
import { fmtUsdc, shortAddr } from "../lib/format";
import { ErrorBox } from "../components/ErrorBox";
import { ImagingProfileRows } from "../components/ImagingProfile";
import { imagingSummary, isImagingProfile } from "../lib/imaging";

export function datasetTitle(d: DatasetRow): string {
  return (d.profile?.name as string) ?? `Dataset #${d.id}`;
}

export default function Catalogue() {
  const q = useDatasets();
  const [search, setSearch] = useState("");
  const rows = (q.data ?? []).filter((d) => {
    const basis = statedDataBasis(d.profile);
    return matchesQuery(search, [
      datasetTitle(d), d.profile?.institution as string, d.profile?.modality as string, ...(d.profile?.codingSystems ?? []), ...(d.profile ? imagingSummary(d.profile).modalities : []),
      d.profile?.description as string, (d.nodeMetadata?.institution as string) ?? "", sizeBand(d.recordCount), ATTESTATION_TYPES[d.attestationType],
      basis?.consentModel, basis?.consentName,
    ]);
  });
  return (
    <section>
      <h1>Hospital datasets</h1>
      <p className="muted">Registered on chain in NodeRegistry. Records never leave the hospital: your model travels to them.</p>
      <input type="search" aria-label="Search datasets" placeholder="Search modality, coding system, institution…" value={search}
        onChange={(e) => setSearch(e.target.value)} style={{ width: "100%", maxWidth: 480, marginBottom: "1rem" }} />
      {q.isPending && <p className="muted">Loading datasets from the chain…</p>}
      <ErrorBox error={q.error} onRetry={() => q.refetch()} />
      {q.data && rows.length === 0 && <p>No dataset matches{search ? ` “${search}”` : " (none registered yet)"}.</p>}
      <div className="grid">
        {rows.map((d) => (
          <article className="card" key={String(d.id)} data-testid="dataset-card">
            <h3>{datasetTitle(d)} {!d.active && <span className="badge">inactive</span>}</h3>
            <div className="muted">{(d.profile?.institution as string) ?? (d.nodeMetadata?.institution as string) ?? `node ${shortAddr(d.node)}`}</div>
            <table><tbody>
              <tr><th>Modality</th><td>{(d.profile?.modality as string) ?? "—"}</td></tr>
              {d.profile && isImagingProfile(d.profile) && <ImagingProfileRows profile={d.profile} />}
              <tr><th>Coding</th><td>{d.profile?.codingSystems?.join(", ") ?? "—"}</td></tr>
              <DataBasisRows profile={d.profile} />
              <tr><th>Size</th><td>{(d.profile?.sizeBand as string) ?? sizeBand(d.recordCount)}</td></tr>
              <tr><th>Price floor</th><td>{fmtUsdc(d.priceFloor)} / record</td></tr>
              <tr><th>Attestation</th><td>{ATTESTATION_TYPES[d.attestationType] ?? d.attestationType}{!d.nodeActive && " (node deactivated)"}</td></tr>
            </tbody></table>
            <p><a href={`#/new?dataset=${d.id}`}><button disabled={!d.active || !d.nodeActive}>Start a job</button></a></p>
          </article>
        ))}
      </div>
    </section>
  );
}

/** The consent model and value set the node states for the dataset: every receipt names and hashes the same basis. */
function DataBasisRows({ profile }: { profile: DatasetRow["profile"] }) {
  const b = statedDataBasis(profile);
  return (
    <>
      <tr><th>Consent</th><td data-testid="consent-model" title={b ? `${b.consentModel}: ${b.consentLabel}` : undefined}>{b ? `${b.consentName}${b.legalBasis ? `: ${b.legalBasis}` : ""}` : "not stated by the node"}</td></tr>
      <tr><th>Value set</th><td className="mono">{b?.valueSetVersion ?? "—"}</td></tr>
    </>
  );
}
