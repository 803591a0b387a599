import { useEffect, useState } from "react";
import { bytesToHex, keccak256, type Hex } from "viem";
import type { BundleRequest } from "../lib/generateBundle";
import { CnnFields, DEFAULT_CNN, cnnRequest, type CnnFieldValues } from "./CnnFields";
import { PrivacyFields, DEFAULT_PRIVACY, privacyRequest, type PrivacyFieldValues } from "./PrivacyFields";

export interface PickedBundle { digest: Hex; name: string; size: number; bytes: Uint8Array; summary?: string }

/** keccak256 of the bundle's bytes: the on-chain model digest (sdk `bundleDigest`). Computed here, nothing is uploaded. */
export async function digestFile(file: Blob): Promise<{ digest: Hex; bytes: Uint8Array }> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  return { digest: keccak256(bytes), bytes };
}

/**
 * Picks a model bundle file (or generates one with the sdk builder) and computes its digest in
 * the browser. Patient data never goes here: this takes the researcher's model only.
 */
export function BundlePicker({ value, onChange, generate, defaultInputDim, imaging }: {
  value: PickedBundle | null;
  defaultInputDim?: number;
  onChange: (b: PickedBundle | null) => void;
  generate?: (spec: BundleRequest) => Promise<{ bytes: Uint8Array; summary: string }>;
  /** the dataset holds images: the generator offers the CNN (the only model an imaging dataset trains) */
  imaging?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const [kind, setKind] = useState<"logreg" | "mlp">("logreg");
  const [dim, setDim] = useState(String(defaultInputDim ?? 8));
  useEffect(() => { if (defaultInputDim) setDim(String(defaultInputDim)); }, [defaultInputDim]);
  const [epochs, setEpochs] = useState("5");
  const [cnn, setCnn] = useState<CnnFieldValues>(DEFAULT_CNN);
  const [privacy, setPrivacy] = useState<PrivacyFieldValues>(DEFAULT_PRIVACY);

  async function onFile(f: File | undefined) {
    setErr(null);
    if (!f) return onChange(null);
    if (f.size > 64 * 1024 * 1024) { setErr("Bundles are limited to 64 MB."); return; }
    setBusy(true);
    try {
      const { digest, bytes } = await digestFile(f);
      onChange({ digest, name: f.name, size: f.size, bytes });
    } catch (e) {
      setErr(`Could not read the file: ${(e as Error).message}`);
    } finally { setBusy(false); }
  }
  async function onGenerate() {
    if (!generate) return;
    setErr(null); setBusy(true);
    try {
      if (imaging) {
        const req = cnnRequest(cnn);
        const { bytes, summary } = await generate(req);
        onChange({ digest: keccak256(bytes), name: `cnn-${req.inputSize}.rapha.json`, size: bytes.length, bytes, summary });
        return;
      }
      const n = Number(dim), ep = Number(epochs);
      if (!Number.isInteger(n) || n < 1 || n > 4096) throw new Error("Input features must be 1–4096.");
      const { bytes, summary } = await generate({ kind, inputDim: n, hidden: kind === "mlp" ? [16] : [], epochs: Math.max(1, ep | 0), lr: 0.1, privacy: privacyRequest(privacy) });
      onChange({ digest: keccak256(bytes), name: `${kind}-${n}.rapha.json`, size: bytes.length, bytes, summary });
    } catch (e) {
      setErr(`Could not build the bundle: ${(e as Error).message}`);
    } finally { setBusy(false); }
  }
  function download() {
    if (!value) return;
    const url = URL.createObjectURL(new Blob([value.bytes as BlobPart], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url; a.download = value.name; a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  return (
    <fieldset aria-label="Model bundle">
      <legend>Model bundle</legend>
      <p className="notice" data-testid="no-patient-data">
        Pick your <strong>model bundle</strong> only. Never select patient data: no patient record is uploaded or needed — the
        hospital trains your model beside its own records. The file stays in your browser; only its digest goes on chain.
      </p>
      <div className="row">
        <label>Bundle file
          <input type="file" accept=".json,.rapha,.onnx,application/json" aria-label="Model bundle file" onChange={(e) => onFile(e.target.files?.[0])} />
        </label>
        {generate && imaging && (
          <>
            <span className="muted">or generate:</span>
            <CnnFields value={cnn} onChange={setCnn} />
            <button type="button" onClick={onGenerate} disabled={busy}>Generate bundle</button>
          </>
        )}
        {generate && !imaging && (
          <>
            <span className="muted">or generate:</span>
            <label>Model
              <select value={kind} onChange={(e) => setKind(e.target.value as "logreg" | "mlp")} aria-label="Model type">
                <option value="logreg">logistic regression</option>
                <option value="mlp">MLP (16 hidden)</option>
              </select>
            </label>
            <label>Input features<input type="number" value={dim} onChange={(e) => setDim(e.target.value)} style={{ width: "6em" }} /></label>
            <label>Epochs<input type="number" value={epochs} onChange={(e) => setEpochs(e.target.value)} style={{ width: "5em" }} /></label>
            <PrivacyFields value={privacy} onChange={setPrivacy} />
            <button type="button" onClick={onGenerate} disabled={busy}>Generate bundle</button>
          </>
        )}
      </div>
      {busy && <p className="muted">Computing…</p>}
      {err && <div className="error" role="alert">{err}</div>}
      {value && (
        <p data-testid="bundle-digest">
          {value.name} · {(value.size / 1024).toFixed(1)} kB{value.summary ? ` · ${value.summary}` : ""}<br />
          digest <code>{value.digest}</code>{" "}
          <button type="button" className="secondary" onClick={download}>Download bundle</button>
        </p>
      )}
    </fieldset>
  );
}

export { bytesToHex };
