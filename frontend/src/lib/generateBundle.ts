/**
 * Builds a declarative model bundle (rapha-model-bundle/2: spec, feature names, initial weights) in the
 * browser with the sdk (loaded only when asked for). The hospital builds the training graphs from the
 * spec itself; a bundle never carries graphs or code.
 */
export async function generateBundle(spec: { kind: "logreg" | "mlp"; inputDim: number; hidden: number[]; epochs: number; lr: number; features?: string[] }) {
  const sdk = await import("@rapha/sdk/model");
  const optimizer = { type: spec.kind === "mlp" ? ("adam" as const) : ("sgd" as const), lr: spec.kind === "mlp" ? 0.01 : spec.lr };
  const model = spec.kind === "mlp"
    ? { kind: "mlp" as const, inputDim: spec.inputDim, hidden: spec.hidden, epochs: spec.epochs, optimizer }
    : { kind: "logreg" as const, inputDim: spec.inputDim, epochs: spec.epochs, optimizer };
  const b = sdk.createBundle(model, { features: spec.features });
  const bytes = sdk.serializeBundle(b);
  return { bytes, summary: `${spec.kind}, ${spec.inputDim} features, ${spec.epochs} epochs (declarative spec; the hospital builds the graphs)` };
}
