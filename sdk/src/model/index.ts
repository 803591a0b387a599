export * from "./builder.js";
export * from "./bundle.js";
export * from "./encryption.js";
export { assertBuiltModelSafe, BUILDER_OPERATORS, TABULAR_OPERATORS } from "./guard.js";
export { CNN_OPERATORS, CnnSpecSchema, type CnnSpec, type CnnSpecParsed } from "./cnn.js";
export { OPSET, IR_VERSION, decodeModel } from "./graph.js";
export { PrivacySchema, type Privacy } from "./dp.js";
