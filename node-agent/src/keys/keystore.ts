// The operator key kept encrypted at rest: a Web3 Secret Storage v3 JSON keystore (what geth,
// MetaMask and ethers write), decrypted with ethers. The password comes from an environment
// variable or from a file that obeys the same owner-only rule as the key files.
import { computeAddress, decryptKeystoreJsonSync, encryptKeystoreJsonSync, isKeystoreJson } from "ethers";
import { KeyFileError, readPrivateFile } from "./files.js";
import { parsePrivateKey } from "./format.js";

export interface KeystoreSource {
  /** the keystore JSON file */
  file: string;
  /** name of the environment variable holding the password */
  passwordEnv?: string;
  /** a file (mode 600) holding the password */
  passwordFile?: string;
}

/** The keystore password from its configured source; never part of any message. */
export function keystorePassword(src: KeystoreSource): string {
  if (src.passwordEnv !== undefined) {
    const v = process.env[src.passwordEnv];
    if (!v) throw new KeyFileError(`keys.operatorKeystore.passwordEnv: environment variable ${src.passwordEnv} is not set or empty`);
    return v;
  }
  if (src.passwordFile !== undefined) return readPrivateFile(src.passwordFile, "keystore password file").replace(/\r?\n$/, "");
  throw new KeyFileError("keys.operatorKeystore: set passwordEnv or passwordFile");
}

/** Decrypts a v3 keystore JSON text to its private key. `where` names the file. */
export function decryptKeystore(json: string, password: string, where: string): `0x${string}` {
  if (!isKeystoreJson(json)) throw new KeyFileError(`${where}: not a Web3 Secret Storage (v3) keystore JSON`);
  let key: string;
  try {
    key = decryptKeystoreJsonSync(json, password).privateKey;
  } catch {
    throw new KeyFileError(`${where}: the keystore could not be decrypted with the configured password (wrong password or corrupt file)`);
  }
  return parsePrivateKey(key, where);
}

/** Encrypts a private key into v3 keystore JSON (used by tests and by operators migrating a key file). */
export function encryptKeystore(privateKey: `0x${string}`, password: string, opts: { scryptN?: number } = {}): string {
  return encryptKeystoreJsonSync({ address: computeAddress(privateKey), privateKey }, password, { scrypt: opts.scryptN ? { N: opts.scryptN } : undefined });
}
