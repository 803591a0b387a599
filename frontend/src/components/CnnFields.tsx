import type { CnnBundleRequest } from "../lib/generateBundle";

/** The CNN generator's fields (imaging datasets): input side, convolution blocks, epochs. */
export interface CnnFieldValues {
  inputSize: string;
  blocks: "1" | "2" | "3";
  epochs: string;
}

export const DEFAULT_CNN: CnnFieldValues = { inputSize: "64", blocks: "2", epochs: "5" };
/** Filters per block: 8, 16, 32 (the node caps filters per block; docs/PROTOCOL.md "Imaging datasets"). */
const FILTERS = [8, 16, 32];
export const CNN_INPUT_SIZES = ["32", "64", "128"];

/** The bundle request the fields describe; throws a sentence a person can act on. */
export function cnnRequest(v: CnnFieldValues): CnnBundleRequest {
  const inputSize = Number(v.inputSize);
  const blocks = Number(v.blocks);
  const epochs = Number(v.epochs);
  if (!CNN_INPUT_SIZES.includes(v.inputSize)) throw new Error("Image size must be 32, 64 or 128 pixels.");
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 100) throw new Error("Epochs must be 1–100.");
  return { kind: "cnn", inputSize, channels: FILTERS.slice(0, blocks), epochs };
}

export function CnnFields({ value, onChange }: { value: CnnFieldValues; onChange: (v: CnnFieldValues) => void }) {
  return (
    <>
      <label>Model
        <select aria-label="Model type" value="cnn" disabled>
          <option value="cnn">CNN (images)</option>
        </select>
      </label>
      <label>Image size
        <select aria-label="Image size" value={value.inputSize} onChange={(e) => onChange({ ...value, inputSize: e.target.value })}>
          {CNN_INPUT_SIZES.map((s) => <option key={s} value={s}>{s}×{s}</option>)}
        </select>
      </label>
      <label>Conv blocks
        <select aria-label="Convolution blocks" value={value.blocks} onChange={(e) => onChange({ ...value, blocks: e.target.value as CnnFieldValues["blocks"] })}>
          <option value="1">1 (8 filters)</option>
          <option value="2">2 (8, 16)</option>
          <option value="3">3 (8, 16, 32)</option>
        </select>
      </label>
      <label>Epochs<input type="number" aria-label="CNN epochs" value={value.epochs} onChange={(e) => onChange({ ...value, epochs: e.target.value })} style={{ width: "5em" }} /></label>
    </>
  );
}
