// Loading the node's key material: the operator key (plain file or encrypted keystore), the enclave
// key and the hospital secret. Each file is checked (owner-only, format) before use; each value is
// noted for scrubbing; no value ever appears in a message.
import { readPrivateFile, checkPrivateFile } from "./files.js";
import { parseHospitalSecret, parsePrivateKey } from "./format.js";
import { decryptKeystore, keystorePassword, type KeystoreSource } from "./keystore.js";
import { noteSecret } from "./secrets.js";

export { KeyFileError, checkPrivateFile, readPrivateFile } from "./files.js";
export { parsePrivateKey, parseHospitalSecret } from "./format.js";
export { decryptKeystore, encryptKeystore, keystorePassword, type KeystoreSource } from "./keystore.js";
export { noteSecret, scrub } from "./secrets.js";

export interface KeyPaths {
  operatorKeyFile: string;
  enclaveKeyFile: string;
  hospitalSecretFile: string;
  /** when set, the operator key comes from this keystore and operatorKeyFile is not read */
  operatorKeystore?: KeystoreSource;
}

export interface KeyRing {
  operatorKey: () => `0x${string}`;
  enclaveKey: () => `0x${string}`;
  hospitalSecret: () => `0x${string}`;
}

function noted<T extends string>(v: T): T {
  noteSecret(v);
  return v;
}

/**
 * Checks every key file now (permissions and format), so a bad file stops the agent at start with
 * the remedy, not a job later; the keystore is decrypted on first use (scrypt is slow) and cached.
 */
export function openKeyRing(p: KeyPaths): KeyRing {
  const enclave = noted(parsePrivateKey(readPrivateFile(p.enclaveKeyFile, "enclave key file"), p.enclaveKeyFile));
  const secret = noted(parseHospitalSecret(readPrivateFile(p.hospitalSecretFile, "hospital secret file"), p.hospitalSecretFile));
  let operator: `0x${string}` | undefined;
  if (p.operatorKeystore) {
    checkPrivateFile(p.operatorKeystore.file, "operator keystore");
    if (p.operatorKeystore.passwordFile !== undefined) checkPrivateFile(p.operatorKeystore.passwordFile, "keystore password file");
  } else operator = noted(parsePrivateKey(readPrivateFile(p.operatorKeyFile, "operator key file"), p.operatorKeyFile));
  return {
    operatorKey: () => {
      if (operator) return operator;
      const ks = p.operatorKeystore!;
      const pw = keystorePassword(ks);
      noteSecret(pw);
      operator = noted(decryptKeystore(readPrivateFile(ks.file, "operator keystore"), pw, ks.file));
      return operator;
    },
    enclaveKey: () => enclave,
    hospitalSecret: () => secret,
  };
}
