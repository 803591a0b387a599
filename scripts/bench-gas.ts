/**
 * Gas benchmark of the settlement core on Hardhat's in-process chain.
 *
 *   npm run bench:gas     (= hardhat run scripts/bench-gas.ts)
 *
 * Runs one job through every path and writes reports/bench/gas.json (gas used per transaction,
 * including the 21k intrinsic cost). `submitProof` uses the TEST verifier (test/solidity/mocks),
 * so it EXCLUDES Groth16 verification (≈230k more with the snarkjs verifier; the circuits
 * benchmark reports the real-verifier figure). The bench deploys the test verifier itself; no
 * deploy module ever does.
 *
 * Cold vs warm: the first credit of a pull balance writes a fresh storage slot (≈22k each for
 * node and researcher); later settlements update existing slots (≈5k each), because balances are
 * kept as monotonic credited/withdrawn counters. Treasury fees accrue in the slot that already
 * holds the treasury address and fee rate. Both cases are reported.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { network } from "hardhat";
import { PERMIT_TYPES } from "../sdk/src/permit.js";

const { ethers, networkHelpers } = await network.create();
const [admin, researcher, researcher2, node, enclave, treasury] = await ethers.getSigners();

const usdc: any = await ethers.deployContract("MockUSDC", [admin.address]);
const verifier: any = await ethers.deployContract("TestRecordCountVerifier");
const nodes: any = await ethers.deployContract("NodeRegistry", [admin.address, admin.address]);
const vault: any = await ethers.deployContract("RaphaClearingVault", [
  await usdc.getAddress(),
  admin.address,
  admin.address,
  treasury.address,
  250,
]);
const registry: any = await ethers.deployContract("JobRegistry", [
  await verifier.getAddress(),
  await nodes.getAddress(),
  await vault.getAddress(),
  admin.address,
  admin.address,
]);
await vault.setJobRegistry(await registry.getAddress());
const M = ethers.id("measurement");
await nodes.setMeasurementAllowed(0, M, true);
await nodes.connect(node).registerNode(enclave.address, 0, M, "ipfs://node");
await nodes.connect(node).registerDataset(123n, 100_000, ethers.ZeroHash, 1_000n, "ipfs://dataset");
for (const r of [researcher, researcher2]) await usdc.mint(r.address, 10n ** 12n);
await usdc.connect(researcher).approve(await vault.getAddress(), ethers.MaxUint256);
const chainId = (await ethers.provider.getNetwork()).chainId;
const vaultAddr = await vault.getAddress();

async function spec() {
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  return {
    datasetId: 1n,
    modelDigest: ethers.id("model"),
    modelURI: "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/model.onnx",
    cohortHash: ethers.id("cohort"),
    cohortParams: 18n | (90n << 7n) | (7n << 14n),
    outputPolicyHash: ethers.id("policy"),
    pricePerRecord: 50_000n,
    maxRecords: 1_000n,
    deadline: now + 7n * 86_400n,
    resultPublicKey: ethers.id("x25519"),
  };
}

async function gas(tx: Promise<any>): Promise<number> {
  const rc = await (await tx).wait();
  return Number(rc.gasUsed);
}

async function batch(jobId: bigint, chunkIndex: bigint, count: bigint, lastId: bigint) {
  const usage = 777n + chunkIndex;
  const signature = await enclave.signTypedData(
    { name: "Rapha JobRegistry", version: "1", chainId, verifyingContract: await registry.getAddress() },
    {
      UsageAttestation: [
        { name: "jobId", type: "uint256" },
        { name: "chunkIndex", type: "uint256" },
        { name: "usage", type: "uint256" },
      ],
    },
    { jobId, chunkIndex, usage },
  );
  return {
    chunkIndex,
    result: count + (lastId << 32n),
    usage,
    pA: [1n, 2n],
    pB: [
      [3n, 4n],
      [5n, 6n],
    ],
    pC: [7n, 8n],
    enclaveSignature: signature,
  };
}

const r: Record<string, number> = {};
const SCAN = ethers.id("scan");
const ATT = ethers.id("attestation");

// Job 1: happy path with cold pull balances.
r.createJob = await gas(registry.connect(researcher).createJob(await spec()));
r.acceptJob = await gas(registry.connect(node).acceptJob(1n, SCAN, ATT));
r.submitProof = await gas(registry.connect(node).submitBatch(1n, await batch(1n, 0n, 64n, 200n)));
r.submitProofNext = await gas(registry.connect(node).submitBatch(1n, await batch(1n, 1n, 64n, 400n)));
r.settle = await gas(registry.connect(node).settleJob(1n, ethers.id("receipt")));
r.withdraw = await gas(vault.connect(node).withdraw());

// Job 2: createJobWithPermit (no prior allowance).
{
  const s = await spec();
  const value = s.pricePerRecord * s.maxRecords;
  const deadline = s.deadline;
  const sig = ethers.Signature.from(
    await researcher2.signTypedData(
      { name: await usdc.name(), version: "1", chainId, verifyingContract: await usdc.getAddress() },
      { Permit: [...PERMIT_TYPES.Permit] },
      { owner: researcher2.address, spender: vaultAddr, value, nonce: 0n, deadline },
    ),
  );
  r.createJobWithPermit = await gas(registry.connect(researcher2).createJobWithPermit(s, deadline, sig.v, sig.r, sig.s));
}

// Job 3: the same happy path again, warm balances (node withdrew; treasury and researcher hold credits).
r.createJobWarm = await gas(registry.connect(researcher).createJob(await spec()));
await registry.connect(node).acceptJob(3n, SCAN, ATT);
await registry.connect(node).submitBatch(3n, await batch(3n, 0n, 64n, 200n));
r.settleWarm = await gas(registry.connect(node).settleJob(3n, ethers.id("receipt")));

// Job 4: a researcher's first settlement with a node and treasury that already hold balances.
await usdc.connect(researcher2).approve(vaultAddr, ethers.MaxUint256);
await registry.connect(researcher2).createJob(await spec());
await registry.connect(node).acceptJob(4n, SCAN, ATT);
await registry.connect(node).submitBatch(4n, await batch(4n, 0n, 64n, 200n));
r.settleNewResearcher = await gas(registry.connect(node).settleJob(4n, ethers.id("receipt")));

// Job 5 / 6: cancel and reject.
await registry.connect(researcher).createJob(await spec());
r.cancelJob = await gas(registry.connect(researcher).cancelJob(5n));
await registry.connect(researcher).createJob(await spec());
r.rejectJob = await gas(registry.connect(node).rejectJob(6n, 1));

// Job 2 never accepted → expires; job 7 accepted with a proof → expires paying what was proven.
await registry.connect(researcher).createJob(await spec());
await registry.connect(node).acceptJob(7n, SCAN, ATT);
await registry.connect(node).submitBatch(7n, await batch(7n, 0n, 10n, 10n));
await networkHelpers.time.increase(8 * 86_400);
r.refundExpired = await gas(registry.connect(admin).expireJob(2n));
r.expireAccepted = await gas(registry.connect(admin).expireJob(7n));
r.withdrawResearcher = await gas(vault.connect(researcher).withdraw());

r.lifecycle = r.createJob + r.acceptJob + r.submitProof + r.settle;
r.lifecycleWarm = r.createJobWarm + r.acceptJob + r.submitProof + r.settleWarm;

const notes: Record<string, string> = {
  createJob: "first job of this researcher (stores spec incl. modelURI, pulls USDC)",
  createJobWithPermit: "EIP-2612 permit + create in one tx",
  acceptJob: "",
  submitProof: "one batch, TEST verifier: EXCLUDES Groth16 verification (~230k with snarkjs verifier)",
  submitProofNext: "second batch of the same job (chained minId)",
  settle: "first settlement ever: node and researcher balances credited from zero (fees accrue in a packed slot)",
  settleWarm: "later settlement: those balances already exist",
  settleNewResearcher: "a researcher's first refund; node and treasury already have balances",
  refundExpired: "never-accepted job expired by anyone: full refund",
  expireAccepted: "accepted job expired: pays the proven count, refunds the rest",
  cancelJob: "",
  rejectJob: "",
  withdraw: "node withdraws its pull balance",
  withdrawResearcher: "",
  createJobWarm: "",
  lifecycle: "createJob + acceptJob + submitProof + settle (cold), proof verification excluded",
  lifecycleWarm: "same with warm balances",
};
console.table(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { gas: v, note: notes[k] ?? "" }])));
await mkdir("reports/bench", { recursive: true });
await writeFile(
  "reports/bench/gas.json",
  JSON.stringify(
    { ...r, _notes: { ...notes, verifier: "TestRecordCountVerifier (no proof verification)" } },
    null,
    2,
  ) + "\n",
);
console.log("wrote reports/bench/gas.json");
