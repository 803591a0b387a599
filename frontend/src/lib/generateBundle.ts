/** Builds a model bundle in the browser with the sdk's builder (loaded only when asked for). */
export async function generateBundle(spec: { kind: "logreg" | "mlp"; inputDim: number; hidden: number[]; epochs: number; lr: number }) {
  const sdk = await import("@rapha/sdk/model");
  const b = sdk.createBundle({
    kind: spec.kind, inputDim: spec.inputDim, hidden: spec.hidden, epochs: spec.epochs,
    optimizer: { type: spec.kind === "mlp" ? "adam" : "sgd", lr: spec.kind === "mlp" ? 0.01 : spec.lr },
  });
  const bytes = sdk.serializeBundle(b);
  return { bytes, summary: `${spec.kind}, ${spec.inputDim} features, ${spec.epochs} epochs (sdk builder)` };
}
