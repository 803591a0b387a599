import type { TabularBundleRequest } from "../lib/generateBundle";

/** The generator's differential-privacy fields (DP-SGD; docs/PROTOCOL.md "Differential privacy"). */
export interface PrivacyFieldValues {
  enabled: boolean;
  epsilon: string;
  delta: string;
  clipNorm: string;
}

export const DEFAULT_PRIVACY: PrivacyFieldValues = { enabled: false, epsilon: "3", delta: "1e-5", clipNorm: "1" };

/** The spec's privacy parameters the fields describe (undefined when off); throws a sentence a person can act on. */
export function privacyRequest(v: PrivacyFieldValues): TabularBundleRequest["privacy"] {
  if (!v.enabled) return undefined;
  const epsilon = Number(v.epsilon), delta = Number(v.delta), clipNorm = Number(v.clipNorm);
  if (!(epsilon > 0 && epsilon <= 100)) throw new Error("ε must be greater than 0 and at most 100.");
  if (!(delta > 0 && delta <= 1e-3)) throw new Error("δ must be greater than 0 and at most 0.001 (below 1 / records).");
  if (!(clipNorm > 0 && clipNorm <= 1000)) throw new Error("The clip norm must be greater than 0 and at most 1000.");
  return { epsilon, delta, clipNorm };
}

export function PrivacyFields({ value, onChange }: { value: PrivacyFieldValues; onChange: (v: PrivacyFieldValues) => void }) {
  return (
    <>
      <label>
        <input type="checkbox" aria-label="Differential privacy" checked={value.enabled} onChange={(e) => onChange({ ...value, enabled: e.target.checked })} />
        Differential privacy (DP-SGD)
      </label>
      {value.enabled && (
        <>
          <label>ε<input type="number" aria-label="Privacy epsilon" step="0.1" value={value.epsilon} onChange={(e) => onChange({ ...value, epsilon: e.target.value })} style={{ width: "5em" }} /></label>
          <label>δ<input type="text" aria-label="Privacy delta" value={value.delta} onChange={(e) => onChange({ ...value, delta: e.target.value })} style={{ width: "6em" }} /></label>
          <label>Clip norm<input type="number" aria-label="Clip norm" step="0.1" value={value.clipNorm} onChange={(e) => onChange({ ...value, clipNorm: e.target.value })} style={{ width: "5em" }} /></label>
        </>
      )}
    </>
  );
}
