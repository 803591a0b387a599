// Governance tooling for the attestation governor (ATTESTATION_GOVERNOR_ROLE on NodeRegistry):
//   npm run governance -- approve  --rpc URL --node-registry 0x.. --operator 0x.. [--evidence file|uri] [--at secs] [--dry-run]
//   npm run governance -- allow    --rpc URL --node-registry 0x.. --type SGX_DCAP|TDX|SIMULATED --measurement 0x.. [--revoke]
//   npm run governance -- freeze   --rpc URL --node-registry 0x.. --operator 0x.. --reason <file>   (unfreeze: --unfreeze)
// `approve` fetches the node's published evidence (its quoteURI from the NodeRegistered event unless
// --evidence is given), verifies it for real (scripts/attestation-verify.ts does the same checks) and
// only then sends approveBinding with exactly what it verified. The governor key comes from
// RAPHA_GOVERNOR_KEY or --key-file (never printed).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createPublicClient, createWalletClient, encodeFunctionData, getAddress, http, isAddress, keccak256, parseEventLogs, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { AttestationType, nodeRegistryAbi } from "@rapha/sdk/abi/index";
import { AttestationRefused, loadEvidence, reviewBinding } from "@rapha/node-agent/attest";

function fail(msg: string): never {
  console.error(`governance: ${msg}`);
  process.exit(1);
}

function addr(v: string | undefined, flag: string): Address {
  if (!v || !isAddress(v)) fail(`${flag} must be a 0x address`);
  return getAddress(v);
}

/** The quoteURI of the node's latest NodeRegistered event. */
async function publishedQuoteURI(client: PublicClient, nodeRegistry: Address, operator: Address): Promise<string> {
  const logs = await client.getLogs({ address: nodeRegistry, fromBlock: 0n });
  const ev = parseEventLogs({ abi: nodeRegistryAbi, logs, eventName: "NodeRegistered" }).filter((e) => getAddress(e.args.operator) === operator).at(-1);
  if (!ev) fail(`no NodeRegistered event for ${operator} on ${nodeRegistry}`);
  return ev.args.quoteURI;
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  const { values: a } = parseArgs({
    args: rest,
    options: {
      rpc: { type: "string" }, "node-registry": { type: "string" }, operator: { type: "string" }, evidence: { type: "string" },
      at: { type: "string" }, "dry-run": { type: "boolean" }, "key-file": { type: "string" }, type: { type: "string" },
      measurement: { type: "string" }, revoke: { type: "boolean" }, reason: { type: "string" }, unfreeze: { type: "boolean" },
      "accept-tcb": { type: "string" },
    },
    strict: true,
  });
  if (!a.rpc) fail("--rpc is required");
  const nodeRegistry = addr(a["node-registry"], "--node-registry");
  const client = createPublicClient({ transport: http(a.rpc) }) as PublicClient;
  const keyHex = (a["key-file"] ? readFileSync(a["key-file"], "utf8").trim() : process.env.RAPHA_GOVERNOR_KEY) as Hex | undefined;
  const send = async (data: Hex): Promise<Hex> => {
    if (!keyHex || !/^0x[0-9a-fA-F]{64}$/.test(keyHex)) fail("set RAPHA_GOVERNOR_KEY or --key-file to the governor's private key (32 bytes hex)");
    const account = privateKeyToAccount(keyHex);
    const chain = { id: await client.getChainId(), name: "rapha", nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [a.rpc!] } } };
    const wallet = createWalletClient({ account, chain, transport: http(a.rpc) });
    const hash = await wallet.sendTransaction({ to: nodeRegistry, data, account, chain });
    const rc = await client.waitForTransactionReceipt({ hash });
    if (rc.status !== "success") fail(`transaction ${hash} reverted`);
    return hash;
  };

  if (cmd === "approve") {
    const operator = addr(a.operator, "--operator");
    const uri = a.evidence ?? (await publishedQuoteURI(client, nodeRegistry, operator));
    const evidence = await loadEvidence(uri);
    const nowSecs = a.at ? Number(a.at) : Math.floor(Date.now() / 1000);
    const review = await reviewBinding(client, nodeRegistry, operator, evidence, { nowSecs, acceptedTcb: a["accept-tcb"]?.split(",") });
    const out: Record<string, unknown> = { verified: review.verified, operator, enclaveKey: review.enclaveKey };
    if (!a["dry-run"]) out.approveTx = await send(review.approveCalldata);
    console.log(JSON.stringify(out, null, 2));
  } else if (cmd === "allow") {
    const t = a.type as keyof typeof AttestationType;
    if (!(t in AttestationType)) fail(`--type must be one of ${Object.keys(AttestationType).join(", ")}`);
    if (!a.measurement || !/^0x[0-9a-fA-F]{64}$/.test(a.measurement)) fail("--measurement must be 32 bytes hex");
    const tx = await send(encodeFunctionData({ abi: nodeRegistryAbi, functionName: "setMeasurementAllowed", args: [AttestationType[t], a.measurement as Hex, !a.revoke] }));
    console.log(JSON.stringify({ type: t, measurement: a.measurement, allowed: !a.revoke, tx }));
  } else if (cmd === "freeze") {
    const operator = addr(a.operator, "--operator");
    const frozen = !a.unfreeze;
    if (frozen && !a.reason) fail("--reason <file> (the published incident report) is required to freeze");
    const reasonHash = a.reason ? keccak256(readFileSync(a.reason)) : (`0x${"00".repeat(32)}` as Hex);
    const tx = await send(encodeFunctionData({ abi: nodeRegistryAbi, functionName: "setNodeFrozen", args: [operator, frozen, reasonHash] }));
    console.log(JSON.stringify({ operator, frozen, reasonHash, tx }));
  } else fail("command must be approve, allow or freeze");
}

main().catch((e) => {
  if (e instanceof AttestationRefused) {
    console.log(JSON.stringify({ approved: false, code: e.code, reason: e.message }, null, 2));
    process.exit(2);
  }
  fail(e instanceof Error ? e.message.split("\n")[0]! : String(e));
});
