// Verifies an enclave-key quote the way governance and auditors must before trusting a node:
//   npm run attest:verify -- --quote <file> [--collateral <file>] (--key 0x.. --operator 0x.. --chain-id N
//       --node-registry 0x.. | --report-data 0x<32 bytes>) (--measurement 0x.. ... | --any-measurement)
//       [--at <unix secs>] [--accept-tcb UpToDate,SWHardeningNeeded]
// or with a published evidence document: --evidence <file|uri> instead of --quote/--collateral.
// Prints one JSON verdict; exit code 0 = accepted, 2 = refused, 1 = usage error.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { bytesToHex, hexToBytes, getAddress, isAddress, type Address, type Hex } from "viem";
import { Quote } from "@phala/dcap-qvl";
import { enclaveKeyReportData } from "@rapha/sdk/binding";
import { AttestationRefused, DEFAULT_ACCEPTED_TCB, loadEvidence, verifyDcapQuote, verifyEvidence, type Evidence } from "@rapha/node-agent/attest";

const USAGE = "usage: npm run attest:verify -- --quote <file> --collateral <file> (--key 0x.. --operator 0x.. --chain-id N --node-registry 0x.. | --report-data 0x..) (--measurement 0x.. | --any-measurement) [--at secs]";

function fail(msg: string): never {
  console.error(`attest:verify: ${msg}\n${USAGE}`);
  process.exit(1);
}

/** A quote file is raw bytes (as Intel tools write it) or 0x-hex text. */
function readQuote(path: string): Hex {
  const b = readFileSync(path);
  const t = b.toString("latin1").trim();
  return /^0x([0-9a-fA-F]{2})+$/.test(t) ? (t as Hex) : bytesToHex(b);
}

function addr(v: string | undefined, flag: string): Address {
  if (!v || !isAddress(v)) fail(`${flag} must be a 0x address`);
  return getAddress(v);
}

async function main() {
  const { values: a } = parseArgs({
    options: {
      quote: { type: "string" }, collateral: { type: "string" }, evidence: { type: "string" },
      key: { type: "string" }, operator: { type: "string" }, "chain-id": { type: "string" }, "node-registry": { type: "string" },
      "report-data": { type: "string" }, measurement: { type: "string", multiple: true }, "any-measurement": { type: "boolean" },
      at: { type: "string" }, "accept-tcb": { type: "string" }, "allow-simulated": { type: "boolean" },
    },
    strict: true,
  });
  const nowSecs = a.at !== undefined ? Number(a.at) : Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(nowSecs) || nowSecs <= 0) fail("--at must be unix seconds");
  const allowed = new Set((a.measurement ?? []).map((m) => m.toLowerCase()));
  if (!a["any-measurement"] && allowed.size === 0) fail("give the allowlisted --measurement (repeatable), or --any-measurement to only report it");
  const isAllowed = (m: Hex) => !!a["any-measurement"] || allowed.has(m.toLowerCase());
  const acceptedTcb = a["accept-tcb"] ? a["accept-tcb"].split(",") : DEFAULT_ACCEPTED_TCB;

  let ev: Evidence;
  if (a.evidence) ev = await loadEvidence(a.evidence);
  else {
    if (!a.quote) fail("--quote or --evidence is required");
    const quote = readQuote(a.quote);
    if (!a.collateral) fail("--collateral is required with --quote (DCAP collateral JSON)");
    let type: Evidence["type"];
    try {
      type = Quote.parse(hexToBytes(quote)).header.teeType === 0 ? "SGX_DCAP" : "TDX";
    } catch {
      fail(`${a.quote} is not a DCAP quote`);
    }
    ev = { type, quote, collateral: JSON.parse(readFileSync(a.collateral, "utf8")) };
  }

  let verdict;
  if (a["report-data"]) {
    // raw binding check (e.g. a quote produced for another system): report_data[0:32] must equal this value
    if (ev.type === "SIMULATED") fail("--report-data applies to DCAP quotes only");
    verdict = verifyDcapQuote({ quote: ev.quote, collateral: ev.collateral, nowSecs, expectedType: ev.type, expectedReportData: a["report-data"] as Hex, isAllowed, acceptedTcb });
  } else {
    const claim = { chainId: Number(a["chain-id"]), nodeRegistry: addr(a["node-registry"], "--node-registry"), operator: addr(a.operator, "--operator"), enclaveKey: addr(a.key, "--key") };
    if (!Number.isSafeInteger(claim.chainId) || claim.chainId <= 0) fail("--chain-id must be a positive integer");
    verdict = await verifyEvidence(ev, claim, { nowSecs, isAllowed, acceptedTcb, allowSimulated: !!a["allow-simulated"] });
    Object.assign(verdict, { expectedReportData: enclaveKeyReportData(claim) });
  }
  console.log(JSON.stringify({ accepted: true, verifiedAt: nowSecs, ...verdict }, null, 2));
}

main().catch((e) => {
  if (e instanceof AttestationRefused) {
    console.log(JSON.stringify({ accepted: false, code: e.code, reason: e.message }, null, 2));
    process.exit(2);
  }
  console.error(`attest:verify: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
