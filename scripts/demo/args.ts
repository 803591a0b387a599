// `npm run demo` arguments, parsed and checked in one place (test/demo/args.test.ts). An unknown
// option or a bad value is a DemoArgsError (the demo prints it and exits 2). --timeout bounds only a
// --headless run: the interactive stack has no end to wait for and runs until Ctrl-C.
import { parseArgs } from "node:util";

export interface DemoArgs {
  headless: boolean;
  /** synthetic patients per hospital */
  patients: number;
  /** hospitals (Hardhat's dev mnemonic funds 20 accounts: 0 governance, 1 researcher, 2.. hospitals) */
  sites: number;
  /** seconds a headless job may take */
  timeout: number;
  timeoutMs: number;
  dir?: string;
  /** when the whole demo gives up (headless only: the job's timeout plus start-up); null = never */
  giveUpAfterMs: number | null;
}

export class DemoArgsError extends Error {
  override name = "DemoArgsError";
}

/** Start-up (chain, deploy, dataset, agent) on top of the job's own timeout. */
export const STARTUP_ALLOWANCE_MS = 120_000;

export function parseDemoArgs(argv: string[]): DemoArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        headless: { type: "boolean", default: false },
        patients: { type: "string", default: "250" },
        sites: { type: "string", default: "1" },
        timeout: { type: "string", default: "600" },
        dir: { type: "string" },
      },
    }));
  } catch (e) {
    throw new DemoArgsError((e as Error).message);
  }
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new DemoArgsError(`--timeout expects a positive number of seconds (got "${values.timeout}")`);
  const sites = Number(values.sites);
  if (!Number.isInteger(sites) || sites < 1 || sites > 8) throw new DemoArgsError(`--sites expects a whole number of hospitals from 1 to 8 (got "${values.sites}")`);
  const patients = Number(values.patients);
  if (!Number.isInteger(patients) || patients < 1) throw new DemoArgsError(`--patients expects a positive whole number (got "${values.patients}")`);
  const timeoutMs = timeout * 1000;
  return { headless: values.headless!, patients, sites, timeout, timeoutMs, dir: values.dir, giveUpAfterMs: values.headless ? timeoutMs + STARTUP_ALLOWANCE_MS : null };
}
