// Minimal typings for circom_runtime 0.1.28 (the witness calculator snarkjs itself uses).
declare module "circom_runtime" {
  export interface WitnessCalculator {
    /** .wtns file bytes for `input` (circom 2 wasm) */
    calculateWTNSBin(input: Record<string, unknown>, sanityCheck?: boolean | number): Promise<Uint8Array>;
  }
  export function WitnessCalculatorBuilder(code: Uint8Array, options?: unknown): Promise<WitnessCalculator>;
}
