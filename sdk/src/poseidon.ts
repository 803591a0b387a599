/**
 * Poseidon over BN254 as in circomlib (circomlibjs 0.1.7 equals the circuit's Poseidon(1..16)).
 * Works in Node and in browsers (circomlibjs compiles a small wasm at first use).
 */
import { buildPoseidon, type Poseidon } from "circomlibjs";

let instance: Promise<Poseidon> | undefined;

/** Poseidon hash of 1..16 field elements, as a bigint. */
export type PoseidonFn = (inputs: readonly bigint[]) => bigint;

/** Loads Poseidon once and returns a synchronous hash function. */
export async function getPoseidon(): Promise<PoseidonFn> {
  instance ??= buildPoseidon();
  const p = await instance;
  return (inputs: readonly bigint[]): bigint => {
    if (inputs.length < 1 || inputs.length > 16) throw new RangeError(`poseidon: ${inputs.length} inputs`);
    return p.F.toObject(p([...inputs]));
  };
}
