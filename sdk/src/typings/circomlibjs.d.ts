declare module "circomlibjs" {
  export interface PoseidonField {
    toObject(e: Uint8Array): bigint;
    e(v: bigint | number | string): Uint8Array;
  }
  export interface Poseidon {
    (inputs: Array<bigint | number | string | Uint8Array>): Uint8Array;
    F: PoseidonField;
  }
  export function buildPoseidon(): Promise<Poseidon>;
}
