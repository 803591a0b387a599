// Structured logs. Rule: log ids, stages, counts, hashes and error *codes* — never record values or keys.
// Two layers: redact paths drop fields that could carry record content or key material wherever they
// appear; streamWrite scrubs every noted secret (node-agent/src/keys/secrets.ts) from the final line,
// so a key that reached a message by any route still never reaches the log.
import pino, { type Logger } from "pino";
import { scrub } from "./keys/secrets.js";

const RECORD_FIELDS = ["records", "X", "Y", "features", "row", "record", "patient", "mrn", "name", "birthDate", "note"];
const SECRET_FIELDS = ["privateKey", "operatorKey", "enclaveKey", "hospitalSecret", "hospitalSecretHex", "secret", "password", "token", "authorization", "signature"];

export const REDACT_PATHS = [...RECORD_FIELDS, ...SECRET_FIELDS].flatMap((f) => [f, `*.${f}`]);

export function makeLogger(level = "info", dest?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: "rapha-node" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      hooks: { streamWrite: scrub },
    },
    dest,
  );
}
