// Governance review of a pending binding on a real chain: only evidence that is the registered
// quote, for the registered key, operator, chain and registry, with the declared and allowlisted
// measurement, yields an approveBinding call; and that call is what makes the node eligible.
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { enclaveKeyReportData } from "@rapha/sdk/binding";
import { nodeRegistryAbi } from "@rapha/sdk/abi/index";
import { reviewBinding, quoteHash, SimulatedAttestationProvider, type Evidence } from "@rapha/node-agent/attest";
import { startChain, allowMeasurement, KEYS, type Chain } from "../chain-harness.js";

describe("governance review of an enclave binding (Hardhat node)", () => {
  let chain: Chain;
  const m = keccak256("0x4d");
  const enclavePk = keccak256("0xe7");
  const enclave = new SimulatedAttestationProvider(enclavePk, m);
  const operator = privateKeyToAccount(KEYS.operator).address;
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    chain = await startChain();
    await allowMeasurement(chain, m);
  });
  after(() => chain.stop());

  const register = async (key: Hex, measurement: Hex, ev: Evidence) => {
    const op = chain.wallet(KEYS.operator);
    const fn = (await chain.client.readContract({ address: chain.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "getNode", args: [operator] })).registered ? "updateNode" : "registerNode";
    await chain.client.waitForTransactionReceipt({ hash: await op.writeContract({ address: chain.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: fn, args: [key, 0, measurement, quoteHash(ev.quote), "file:///evidence.json", ""], account: op.account!, chain: op.chain }) });
  };
  const code = (p: Promise<unknown>) => p.then(() => "accepted", (e: { code?: string; message: string }) => e.code ?? e.message);
  const claim = () => ({ chainId: 31337, nodeRegistry: chain.contracts.nodeRegistry, operator, enclaveKey: enclave.enclaveSigner() });

  it("refuses the enclave's genuine quote when the operator registered its own EOA as the enclave key", async () => {
    const ev = await enclave.evidence(enclaveKeyReportData(claim()));
    await register(operator, m, ev); // the attack of the security review: operator key as "enclave"
    expect(await code(reviewBinding(chain.client, chain.contracts.nodeRegistry, operator, ev, { nowSecs: now() }))).to.equal("QUOTE_INVALID");
  });

  it("refuses evidence that is not the registered quote, and a quote bound to another registry", async () => {
    const ev = await enclave.evidence(enclaveKeyReportData(claim()));
    await register(enclave.enclaveSigner(), m, ev);
    const other = await enclave.evidence(enclaveKeyReportData({ ...claim(), nodeRegistry: chain.contracts.jobRegistry }));
    expect(await code(reviewBinding(chain.client, chain.contracts.nodeRegistry, operator, other, { nowSecs: now() }))).to.equal("QUOTE_INVALID");
    await register(enclave.enclaveSigner(), m, other);
    expect(await code(reviewBinding(chain.client, chain.contracts.nodeRegistry, operator, other, { nowSecs: now() }))).to.equal("BINDING_MISMATCH");
  });

  it("refuses a measurement governance revoked after registration", async () => {
    const ev = await enclave.evidence(enclaveKeyReportData(claim()));
    await register(enclave.enclaveSigner(), m, ev);
    const admin = chain.wallet(KEYS.admin);
    const set = async (allowed: boolean) => chain.client.waitForTransactionReceipt({ hash: await admin.writeContract({ address: chain.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "setMeasurementAllowed", args: [0, m, allowed], account: admin.account!, chain: admin.chain }) });
    await set(false);
    expect(await code(reviewBinding(chain.client, chain.contracts.nodeRegistry, operator, ev, { nowSecs: now() }))).to.equal("MEASUREMENT_NOT_ALLOWED");
    await set(true);
  });

  it("approves the right evidence: approveBinding makes the node eligible with exactly that key and quote hash", async () => {
    const ev = await enclave.evidence(enclaveKeyReportData(claim()));
    const path = join(mkdtempSync(join(tmpdir(), "rapha-review-")), "evidence.json");
    writeFileSync(path, JSON.stringify(ev));
    await register(enclave.enclaveSigner(), m, ev);
    const before = await chain.client.readContract({ address: chain.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "eligibleBinding", args: [operator] });
    expect(before[0]).to.equal("0x0000000000000000000000000000000000000000");
    const r = await reviewBinding(chain.client, chain.contracts.nodeRegistry, operator, ev, { nowSecs: now() });
    expect(r.verified).to.include({ type: "SIMULATED", simulated: true, measurement: m });
    const admin = chain.wallet(KEYS.admin);
    await chain.client.waitForTransactionReceipt({ hash: await admin.sendTransaction({ to: chain.contracts.nodeRegistry, data: r.approveCalldata, account: admin.account!, chain: admin.chain }) });
    const [key, qh] = await chain.client.readContract({ address: chain.contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "eligibleBinding", args: [operator] });
    expect(key).to.equal(enclave.enclaveSigner());
    expect(qh).to.equal(quoteHash(ev.quote));
    expect(await code(reviewBinding(chain.client, chain.contracts.nodeRegistry, operator, ev, { nowSecs: now() }))).to.match(/already approved/);
  });
});
