export * from "./builder.js";
export * from "./bundle.js";
export * from "./encryption.js";
export { assertBuiltModelSafe, BUILDER_OPERATORS } from "./guard.js";
export { OPSET, IR_VERSION, decodeModel } from "./graph.js";
