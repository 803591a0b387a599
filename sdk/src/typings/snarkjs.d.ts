// Minimal typings for the parts of snarkjs 0.7.6 the SDK uses.
declare module "snarkjs" {
  export interface Groth16Proof {
    pi_a: [string, string, string];
    pi_b: [[string, string], [string, string], [string, string]];
    pi_c: [string, string, string];
    protocol: "groth16";
    curve: "bn128";
  }
  export type PublicSignals = string[];
  export interface SnarkjsLogger {
    debug: (msg: string) => void;
    info: (msg: string) => void;
    warn: (msg: string) => void;
    error: (msg: string) => void;
  }
  export type ArtifactSource = string | Uint8Array | { type: "mem"; data: Uint8Array };
  export const groth16: {
    fullProve(
      input: Record<string, unknown>,
      wasm: ArtifactSource,
      zkey: ArtifactSource,
      logger?: SnarkjsLogger,
    ): Promise<{ proof: Groth16Proof; publicSignals: PublicSignals }>;
    prove(
      zkey: ArtifactSource,
      witness: ArtifactSource,
      logger?: SnarkjsLogger,
    ): Promise<{ proof: Groth16Proof; publicSignals: PublicSignals }>;
    verify(vkey: unknown, publicSignals: PublicSignals, proof: Groth16Proof, logger?: SnarkjsLogger): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: PublicSignals): Promise<string>;
  };
  export const wtns: {
    calculate(input: Record<string, unknown>, wasm: ArtifactSource, out: ArtifactSource, options?: unknown): Promise<void>;
  };
  export const r1cs: {
    info(file: string, logger?: SnarkjsLogger): Promise<{ nConstraints: number; nPubInputs: number; nOutputs: number }>;
  };
  export const zKey: {
    exportVerificationKey(zkey: ArtifactSource): Promise<unknown>;
    exportSolidityVerifier(zkey: ArtifactSource, templates: { groth16: string }): Promise<string>;
    newZKey(r1cs: string, ptau: string, zkeyOut: string, logger?: SnarkjsLogger): Promise<unknown>;
    /** returns the 64-byte contribution hash */
    contribute(zkeyOld: string, zkeyNew: string, name: string, entropy: string, logger?: SnarkjsLogger): Promise<Uint8Array>;
    /** returns the 64-byte contribution hash, or false on an invalid beacon */
    beacon(zkeyOld: string, zkeyNew: string, name: string, beaconHashHex: string, iterationsExp: number, logger?: SnarkjsLogger): Promise<Uint8Array | false>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: SnarkjsLogger): Promise<boolean>;
  };
}
