// Structured logs. Rule: log ids, stages, counts, hashes and error *codes* — never record values.
// Anything that could carry record content (loader messages name file:line:field only) is redacted.
import pino, { type Logger } from "pino";

export function makeLogger(level = "info", dest?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: "rapha-node" },
      redact: { paths: ["*.records", "*.X", "*.Y", "*.features", "*.row", "*.record", "*.patient", "*.mrn", "*.name", "*.birthDate", "*.note"], censor: "[redacted]" },
    },
    dest,
  );
}
