export * from "./rdp.js";
export * from "./sampling.js";
