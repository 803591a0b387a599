/**
 * Gas benchmark of the settlement core on Hardhat's in-process chain, with the REAL snarkjs
 * RecordCountVerifier and REAL Groth16 proofs (dev instantiation, 64 records per proof).
 *
 *   npm run bench:gas     (= hardhat run scripts/bench-gas.ts)
 *
 * Lifecycle = createJobWithPermit + acceptJob + the settlement, along each of the three settlement
 * paths (docs/PROTOCOL.md "Settlement paths"), gas used including the 21k intrinsic cost of each tx:
 *  - lean (lifecycleRealProof / lifecycleRealProofWarm): submitBatchAndSettle (one real proof, the
 *    settlement and the node's payment in one tx): 3 transactions;
 *  - settleAndWithdraw: submitBatch + settleJobAndWithdraw: 4 transactions;
 *  - standard: submitBatch + settleJob + node withdraw: 5 transactions (the figure before lean settlement).
 * Each path runs on its own fresh deployment, twice:
 *  - cold: the first job of the deployment: the researcher's permit nonce, every pull balance, the
 *    vault's and the node's token balances are written from zero.
 *  - warm: the same researcher and node again: those slots already exist (the per-job slots are
 *    fresh in both cases, as they are for every job).
 * Ocean Protocol's compute-to-data Escrow.sol lifecycle (deposit, authorize, createLock, claimLock,
 * withdraw; solc 0.8.28), measured in one Hardhat run for issue 11: 812,948 cold / 530,479 warm.
 * Per proven record: submitBatch gas / records proven by the proof. The 512-record production
 * instantiation has the same five public signals, so the same verifier cost and calldata: its
 * per-record figure is the same submitBatch gas divided by 512.
 * Writes reports/bench/gas.json. The "before" column is `main` before contracts v2 (commit 68eed30,
 * old bench: TEST verifier, so its submitProof excludes Groth16 verification; its real-proof
 * lifecycle, 963,484 / 877,972, is the issue 11 measurement).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { network } from "hardhat";
import { type CohortParams, PERMIT_TYPES } from "@rapha/sdk";
import {
  acceptJob,
  createAcceptedJob,
  createJob,
  deployProofStack,
  makeSpec,
  proveJob,
  releaseCurve,
  submitBatch,
  termsFromCreation,
  toBatch,
} from "../test/contracts/proofStack.js";

const OCEAN = { lifecycle: 812_948, lifecycleWarm: 530_479 };
/** `npm run bench:gas` on main at 68eed30 (before contracts v2), TEST verifier. */
const BASELINE: Record<string, number> = {
  createJob: 464337, acceptJob: 50440, submitProof: 66220, submitProofNext: 66256, settle: 97259, withdraw: 69218,
  createJobWithPermit: 462119, createJobWarm: 430137, settleWarm: 63059, settleNewResearcher: 80159, cancelJob: 47626,
  rejectJob: 48043, refundExpired: 51245, expireAccepted: 62260, withdrawResearcher: 52118, lifecycle: 678256,
  lifecycleWarm: 609856, lifecycleRealProof: 963484, lifecycleRealProofWarm: 877972,
};

// every record eligible, so a proof carries a full chunk
const cohort: CohortParams = { ageMin: 0, ageMax: 127, sexMask: 0b111, conditionAnyMask: 0, observationAllMask: 0 };

/** A fresh deployment (cold figures need one per settlement path) and a researcher with USDC but
 * no allowance: the permit path is the only way in. */
async function freshStack() {
  const { ethers, networkHelpers } = await network.create();
  const s = await deployProofStack(ethers, 300, 11);
  const researcher2 = (await ethers.getSigners())[9]!;
  await s.usdc.connect(s.admin).mint(researcher2.address, 1_000_000n * 10n ** 6n);
  return { s, ethers, networkHelpers, researcher2 };
}
type Stack = Awaited<ReturnType<typeof freshStack>>;

async function gas(tx: Promise<any>): Promise<{ gas: number; rc: any }> {
  const rc = await (await tx).wait();
  return { gas: Number(rc.gasUsed), rc };
}

/** createJobWithPermit by `who` (permit for exactly the escrow), returns gas and job id. */
async function createWithPermit({ s, ethers }: Stack, who: any) {
  const spec = await makeSpec(s, cohort);
  const value = spec.pricePerRecord * spec.maxRecords;
  const nonce: bigint = await s.usdc.nonces(who.address);
  const sig = ethers.Signature.from(
    await who.signTypedData(
      { name: await s.usdc.name(), version: "1", chainId: s.chainId, verifyingContract: await s.usdc.getAddress() },
      { Permit: [...PERMIT_TYPES.Permit] },
      { owner: who.address, spender: await s.vault.getAddress(), value, nonce, deadline: spec.deadline },
    ),
  );
  const g = await gas(s.registry.connect(who).createJobWithPermit(spec, spec.deadline, sig.v, sig.r, sig.s));
  return { gas: g.gas, jobId: termsFromCreation(s, g.rc).jobId };
}

/** The three ways a node settles (docs/PROTOCOL.md, "Settlement paths"). */
const PATHS = {
  lean: ["createJobWithPermit", "acceptJob", "submitBatchAndSettle"],
  settleAndWithdraw: ["createJobWithPermit", "acceptJob", "submitBatch", "settleJobAndWithdraw"],
  standard: ["createJobWithPermit", "acceptJob", "submitBatch", "settleJob", "withdraw"],
} as const;
type PathName = keyof typeof PATHS;

let verifyGas = 0;
/** Jobs in the createJobsWithPermit row. */
const MANY = 4;
const RECEIPT = "0x" + "7e".repeat(32);

/** One full lifecycle along `path`; returns per-step gas (keyed by entry point) and the records the proof carried. */
async function lifecycle(st: Stack, path: PathName) {
  const { s } = st;
  const steps: Record<string, number> = {};
  const created = await createWithPermit(st, st.researcher2);
  steps.createJobWithPermit = created.gas;
  const jobId = created.jobId;
  steps.acceptJob = Number((await acceptJob(s, jobId)).gasUsed);
  const { ws, proofs } = await proveJob(s, jobId, cohort, 1);
  const batch = await toBatch(s, proofs[0]!, jobId);
  const signals = [...(await s.registry.publicSignals(jobId, s.terms.get(jobId)!, batch.chunkIndex, batch.result, batch.usage))];
  verifyGas = Number(await s.verifier.verifyProof.estimateGas(batch.pA, batch.pB, batch.pC, signals));
  const reg = s.registry.connect(s.node);
  if (path === "lean") {
    steps.submitBatchAndSettle = (await gas(reg.submitBatchAndSettle(jobId, s.terms.get(jobId)!, batch, RECEIPT))).gas;
  } else {
    steps.submitBatch = Number((await submitBatch(s, jobId, batch)).gasUsed);
    if (path === "settleAndWithdraw") {
      steps.settleJobAndWithdraw = (await gas(reg.settleJobAndWithdraw(jobId, s.terms.get(jobId)!, RECEIPT))).gas;
    } else {
      steps.settleJob = (await gas(reg.settleJob(jobId, s.terms.get(jobId)!, RECEIPT))).gas;
      steps.withdraw = (await gas(s.vault.connect(s.node).withdraw())).gas;
    }
  }
  const [st0] = await s.registry.getJob(jobId);
  if (st0 !== 3n) throw new Error(`${path}: job ${jobId} not settled`);
  return { entryPoints: [...PATHS[path]], steps, total: Object.values(steps).reduce((a, b) => a + b, 0), records: ws[0]!.count };
}

/** Cold (first job of a fresh deployment) and warm (same researcher and node again) along `path`. */
async function measure(path: PathName, st?: Stack) {
  st ??= await freshStack();
  const cold = await lifecycle(st, path);
  const warm = await lifecycle(st, path);
  return { st, cold, warm };
}

const lean = await measure("lean");
const settleAndWithdraw = await measure("settleAndWithdraw");
const standard = await measure("standard");
const { s, networkHelpers, researcher2 } = standard.st;
const { cold, warm } = lean;

// Other paths (not part of the lifecycle).
const r: Record<string, number> = {};
{
  const id = await createJob(s, cohort); // plain createJob, allowance path
  r.cancelJob = (await gas(s.registry.connect(s.researcher).cancelJob(id, s.terms.get(id)!))).gas;
}
{
  const id = await createJob(s, cohort);
  r.rejectJob = (await gas(s.registry.connect(s.node).rejectJob(id, s.terms.get(id)!, 1))).gas;
}
const idle = await createAcceptedJob(s, cohort);
const never = await createJob(s, cohort);
await networkHelpers.time.increase(2 * 86_400 + 1);
r.exitIdleJob = (await gas(s.registry.connect(s.researcher).exitIdleJob(idle, s.terms.get(idle)!))).gas;
await networkHelpers.time.increase(8 * 86_400);
r.expireNeverAccepted = (await gas(s.registry.connect(s.other).expireJob(never, s.terms.get(never)!))).gas;
r.withdrawResearcher = (await gas(s.vault.connect(researcher2).withdraw())).gas;
{
  // issue 14: several jobs with ONE permit for the total escrow (researcher2, warm)
  const st = standard.st;
  const specs = await Promise.all(Array.from({ length: MANY }, () => makeSpec(s, cohort)));
  const value = specs.reduce((a, x) => a + x.pricePerRecord * x.maxRecords, 0n);
  const deadline = specs[0]!.deadline;
  const sig = st.ethers.Signature.from(
    await researcher2.signTypedData(
      { name: await s.usdc.name(), version: "1", chainId: s.chainId, verifyingContract: await s.usdc.getAddress() },
      { Permit: [...PERMIT_TYPES.Permit] },
      { owner: researcher2.address, spender: await s.vault.getAddress(), value, nonce: await s.usdc.nonces(researcher2.address), deadline },
    ),
  );
  r.createJobsWithPermit4 = (await gas(s.registry.connect(researcher2).createJobsWithPermit(specs, deadline, sig.v, sig.r, sig.s))).gas;
}
await releaseCurve();

const submitWarm = standard.warm.steps.submitBatch!;
const perRecord64 = Math.round(submitWarm / warm.records);
const perRecordFull64 = Math.round(submitWarm / 64);
const perRecord512 = Math.round(submitWarm / 512);
const row3 = (m: typeof lean) => ({ entryPoints: m.cold.entryPoints, cold: m.cold.total, warm: m.warm.total, steps: { cold: m.cold.steps, warm: m.warm.steps } });
const result = {
  /** the lean path: createJobWithPermit + acceptJob + submitBatchAndSettle */
  lifecycleRealProof: cold.total,
  lifecycleRealProofWarm: warm.total,
  entryPoints: cold.entryPoints,
  steps: { cold: cold.steps, warm: warm.steps },
  lifecycles: { lean: row3(lean), settleAndWithdraw: row3(settleAndWithdraw), standard: row3(standard) },
  recordsInProof: warm.records,
  verifyProofGas: verifyGas,
  fixedCostOfLifecycle: { intrinsic: 3 * 21_000, verifyProofExecution: verifyGas - 21_000 },
  submitBatchGasPerProvenRecord64: perRecord64,
  submitBatchGasPerRecordFullProof64: perRecordFull64,
  submitBatchGasPerProvenRecord512: perRecord512,
  lifecycleGasPerProvenRecord64: Math.round(warm.total / warm.records),
  other: r,
  ocean: OCEAN,
  belowOcean: { cold: cold.total < OCEAN.lifecycle, warm: warm.total < OCEAN.lifecycleWarm },
  belowOceanStandard: { cold: standard.cold.total < OCEAN.lifecycle, warm: standard.warm.total < OCEAN.lifecycleWarm },
  _notes: {
    verifier: "contracts/RecordCountVerifier.sol (snarkjs export, dev setup) with real Groth16 proofs",
    lifecycle:
      "lifecycleRealProof(Warm) = lean path: createJobWithPermit + acceptJob + submitBatchAndSettle (1 real proof; the node's share sent to it in that tx), gas used incl. 21k intrinsic each; lifecycles.* = every settlement path, each on its own fresh deployment (standard = the 5-step figure before lean settlement)",
    cold: "first job of a fresh deployment: permit nonce, pull balances, vault and node token balances written from zero",
    warm: "second job of the same researcher and node",
    perRecord512:
      "production instantiation (512 records/proof) has the same 5 public signals, hence the same verifier cost and calldata: same submitBatch gas / 512",
    ocean: "Ocean Protocol compute-to-data Escrow.sol lifecycle, issue 11 measurement (solc 0.8.28, Hardhat)",
  },
};

const baseline = BASELINE;
const row = (name: string, before: number | string | undefined, after: number, note = "") => ({ name, before: before ?? "", after, note });
const sw = settleAndWithdraw, std = standard;
console.table([
  row("lifecycle cold (real proof), lean: 3 tx", baseline.lifecycleRealProof, cold.total, `Ocean ${OCEAN.lifecycle}; ${PATHS.lean.join(" + ")}`),
  row("lifecycle warm (real proof), lean: 3 tx", baseline.lifecycleRealProofWarm, warm.total, `Ocean ${OCEAN.lifecycleWarm}`),
  row("lifecycle cold, settle+withdraw: 4 tx", undefined, sw.cold.total, PATHS.settleAndWithdraw.join(" + ")),
  row("lifecycle warm, settle+withdraw: 4 tx", undefined, sw.warm.total),
  row("lifecycle cold, standard: 5 tx", baseline.lifecycleRealProof, std.cold.total, PATHS.standard.join(" + ")),
  row("lifecycle warm, standard: 5 tx", baseline.lifecycleRealProofWarm, std.warm.total),
  row("createJobWithPermit (cold/warm)", baseline.createJobWithPermit, cold.steps.createJobWithPermit!, `warm ${warm.steps.createJobWithPermit}`),
  row("acceptJob", baseline.acceptJob, warm.steps.acceptJob!),
  row("submitBatchAndSettle (cold/warm)", undefined, cold.steps.submitBatchAndSettle!, `warm ${warm.steps.submitBatchAndSettle}`),
  row("submitBatch (real proof)", `${baseline.submitProof} + verifier`, submitWarm, `${warm.records} records`),
  row("settleJobAndWithdraw (cold/warm)", undefined, sw.cold.steps.settleJobAndWithdraw!, `warm ${sw.warm.steps.settleJobAndWithdraw}`),
  row("settleJob (cold/warm)", baseline.settle, std.cold.steps.settleJob!, `warm ${std.warm.steps.settleJob}`),
  row("withdraw (cold/warm)", baseline.withdraw, std.cold.steps.withdraw!, `warm ${std.warm.steps.withdraw}`),
  row("verifyProof alone (eth_estimateGas)", undefined, verifyGas, "incl. 21k + calldata"),
  row("gas per proven record, 64/proof", undefined, perRecord64, "submitBatch / count"),
  row("gas per record, full 64-record proof", undefined, perRecordFull64, "submitBatch / 64"),
  row("gas per proven record, 512/proof", undefined, perRecord512, "same verifier cost / 512"),
  row(`createJobsWithPermit, ${MANY} jobs, one permit (warm)`, undefined, r.createJobsWithPermit4!, `${Math.round(r.createJobsWithPermit4! / MANY)} per job; ${MANY} × createJobWithPermit warm = ${MANY * warm.steps.createJobWithPermit!}`),
  row("cancelJob", baseline.cancelJob, r.cancelJob!),
  row("rejectJob", baseline.rejectJob, r.rejectJob!),
  row("exitIdleJob", undefined, r.exitIdleJob!),
  row("expireJob (never accepted)", baseline.refundExpired, r.expireNeverAccepted!),
]);
await mkdir("reports/bench", { recursive: true });
await writeFile("reports/bench/gas.json", JSON.stringify({ ...result, baselineMain: BASELINE }, null, 2) + "\n");
console.log("wrote reports/bench/gas.json");
