/**
 * Builds a declarative model bundle (rapha-model-bundle/2: spec, feature names, initial weights) in the
 * browser with the sdk (loaded only when asked for). The hospital builds the training graphs from the
 * spec itself; a bundle never carries graphs or code.
 */
export type TabularBundleRequest = {
  kind: "logreg" | "mlp"; inputDim: number; hidden: number[]; epochs: number; lr: number; features?: string[];
  /** DP-SGD: the ε budget at δ and the per-example clip norm (part of the signed spec) */
  privacy?: { epsilon: number; delta: number; clipNorm: number };
};
/** A CNN for an imaging dataset: the node resizes every study's image to inputSize × inputSize. */
export type CnnBundleRequest = { kind: "cnn"; inputSize: number; channels: number[]; epochs: number; lr?: number };
export type BundleRequest = TabularBundleRequest | CnnBundleRequest;

export async function generateBundle(spec: BundleRequest) {
  const sdk = await import("@rapha/sdk/model");
  if (spec.kind === "cnn") {
    const b = sdk.createBundle({ kind: "cnn", inputSize: spec.inputSize, channels: spec.channels, hidden: 32, epochs: spec.epochs, optimizer: { type: "adam", lr: spec.lr ?? 0.005 } });
    return { bytes: sdk.serializeBundle(b), summary: `cnn, ${spec.inputSize}×${spec.inputSize} images, ${spec.channels.length} conv blocks (${spec.channels.join("/")} filters), ${spec.epochs} epochs (declarative spec; the hospital builds the graphs)` };
  }
  const optimizer = { type: spec.kind === "mlp" ? ("adam" as const) : ("sgd" as const), lr: spec.kind === "mlp" ? 0.01 : spec.lr };
  const model = spec.kind === "mlp"
    ? { kind: "mlp" as const, inputDim: spec.inputDim, hidden: spec.hidden, epochs: spec.epochs, optimizer, ...(spec.privacy ? { privacy: spec.privacy } : {}) }
    : { kind: "logreg" as const, inputDim: spec.inputDim, epochs: spec.epochs, optimizer, ...(spec.privacy ? { privacy: spec.privacy } : {}) };
  const b = sdk.createBundle(model, { features: spec.features });
  const bytes = sdk.serializeBundle(b);
  const dp = spec.privacy ? `, DP-SGD ε ≤ ${spec.privacy.epsilon} at δ = ${spec.privacy.delta}` : "";
  return { bytes, summary: `${spec.kind}, ${spec.inputDim} features, ${spec.epochs} epochs${dp} (declarative spec; the hospital builds the graphs)` };
}
