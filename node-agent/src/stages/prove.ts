// prove: each batch goes on chain as soon as its proof exists, so the researcher sees progress
// while proving goes on. Proof files and each batch's tx key persist: after a crash proving resumes
// at the first batch not on chain. Before each batch, if the chain's time left before the deadline
// is less than the measured time to prove and mine one batch, it stops and the job goes on to
// delivery and settlement with what is on chain. The last batch, when time allows
// (settle.mergeLastBatch), is held back: it goes on chain with the settlement (submitBatchAndSettle,
// one transaction instead of two); the receipt already cites it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { JobStatus } from "@rapha/sdk/abi/index";
import { decodeCohortParams } from "@rapha/sdk/cohort";
import { decodeWord } from "@rapha/sdk/record";
import { buildDataset } from "@rapha/sdk/dataset";
import { DEV_INSTANCE, PROD_INSTANCE } from "@rapha/sdk/constants";
import { computeJobBinding } from "@rapha/sdk/binding";
import { planBatches } from "@rapha/sdk/witness";
import { Prover, type ProofTimings } from "@rapha/sdk/prove";
import { toSolidityProof, type BatchProof } from "@rapha/sdk/proof";
import { artifactPaths, manifestPath } from "@rapha/sdk/node";
import { ArtifactIntegrityError, loadVerifiedArtifacts, readArtifactManifest } from "@rapha/sdk/artifacts";
import type { CircuitInstance } from "@rapha/sdk/constants";
import { getPoseidon } from "@rapha/sdk/poseidon";
import { encodeSubmitBatch } from "@rapha/sdk/calldata";
import type { FinalBatch, ProofRef, ProvenData } from "./data.js";
import { CRASH_AFTER, Reject, gone, type Exit, type StageContext, type StageJob, type StageResult } from "./context.js";

export type ProveInput = StageJob<"trained">;
export type ProveOutput = (StageResult<"proven"> & { data: ProvenData }) | Exit;

/** Another batch is started only if the time left is at least this many times the measured time per batch. */
export const BATCH_TIME_MARGIN = 1.5;

/** Seconds from the chain's latest block to the deadline (≤ 0: no batch can land any more). */
export async function secondsToDeadline(ctx: StageContext, deadline: number): Promise<number> {
  if (!deadline) return Infinity;
  const b = await ctx.client.getBlock({ blockTag: "latest" });
  return deadline - Number(b.timestamp);
}

/**
 * The prover for the node's instance. With prover.artifactsUrl (always for prod) the zkey and wasm
 * come from that URL and must match the manifest (sha256 and size) before anything is proven: a
 * mismatch rejects the job (full refund; nothing was proven with the wrong file), a download that
 * fails is retried like any stage error. Without it, dev proves with its committed files.
 */
export async function openProver(ctx: StageContext, inst: CircuitInstance): Promise<Prover> {
  const p = ctx.home.config.prover;
  if (!p.artifactsUrl) return Prover.open(artifactPaths(inst));
  const file = p.manifestFile ? ctx.home.path(p.manifestFile) : manifestPath(inst);
  const manifest = await readArtifactManifest(file);
  if (manifest.instance !== inst.name) throw new Error(`${file}: field instance is "${manifest.instance}", the node proves with "${inst.name}" (config prover.instance)`);
  try {
    const a = await loadVerifiedArtifacts(manifest, p.artifactsUrl, { timeoutMs: p.timeoutMs, ipfsGateway: p.ipfsGateway, cacheDir: ctx.home.path(p.cacheDir) });
    if (manifest.insecure) ctx.log.warn({ instance: inst.name, ptau: manifest.ptau.file }, "prover artifacts from an INSECURE setup (rehearsal / dev): their verifier must not hold real value");
    return await Prover.open({ wasm: a.wasm, zkey: a.zkey });
  } catch (e) {
    if (!(e instanceof ArtifactIntegrityError)) throw e;
    ctx.log.error({ instance: inst.name, artifact: e.kind, err: e.message }, "prover artifact refused: it does not match the manifest; nothing is proven with it");
    throw new Reject("INTERNAL_ERROR", `prover ${e.kind} does not match the manifest`);
  }
}

export async function prove(ctx: StageContext, j: ProveInput): Promise<ProveOutput> {
  const d = j.data;
  const c = ctx.home.config;
  const inst = c.prover.instance === "prod" ? PROD_INSTANCE : DEV_INSTANCE;
  const poseidon = await getPoseidon();
  const words = (JSON.parse(readFileSync(d.recordsPath, "utf8")) as string[]).map((w) => decodeWord(BigInt(w)));
  const ds = buildDataset(poseidon, inst, words);
  if (ds.root.toString() !== d.datasetRoot) throw new Reject("DATASET_MISMATCH", "commitment root differs from the job's");
  const transcript = JSON.parse(readFileSync(d.transcriptPath, "utf8")) as { usedIds: number[] };
  const binding = computeJobBinding(c.chainId, ctx.registry, BigInt(j.id), ctx.account.address);
  const batches = planBatches(poseidon, ds, { usedIds: transcript.usedIds }, { cohort: decodeCohortParams(BigInt(d.cohortParams)), jobBinding: binding, startMinId: 0n });
  // usage signatures come from the training child (the enclave), computed from what it fed to training
  const sigs = new Map((JSON.parse(readFileSync(d.usageSignaturesPath, "utf8")) as { chunkIndex: number; usage: string; signature: Hex }[]).map((s) => [s.chunkIndex, s]));
  if (sigs.size !== batches.length || batches.some((b) => !sigs.has(b.chunkIndex))) throw new Error("usage signatures do not cover exactly the planned batches");
  const dir = ctx.jobDir(j.id);
  const refs: ProofRef[] = [];
  let msPerBatch = d.msPerBatch ?? 0;
  let prover: Prover | undefined;
  let finalBatch: FinalBatch | undefined;
  try {
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      const key = `batch:${j.id}:${b.chunkIndex}`;
      const cj = await ctx.readJob(j.id);
      if (cj.status !== JobStatus.Accepted) return gone(`status ${cj.status}`);
      // on chain already (this run's key, or a previous run whose row was lost): nothing to wait for
      const onChain = ctx.db.txByKey(key) !== undefined || cj.nextMinId > b.minId;
      if (!onChain) {
        const left = await secondsToDeadline(ctx, d.deadline);
        if (left <= 0 || (msPerBatch > 0 && left * 1000 < msPerBatch * BATCH_TIME_MARGIN)) {
          ctx.log.warn({ jobId: j.id, onChain: refs.length, batches: batches.length, secondsLeft: left, secondsPerBatch: Math.round(msPerBatch / 1000) }, "deadline too close to prove and mine another batch: stopping with the batches on chain");
          break;
        }
      }
      const t0 = Date.now();
      const p = join(dir, `proof-${b.chunkIndex}.json`);
      let proof: BatchProof;
      let timings: ProofTimings | undefined;
      if (existsSync(p)) proof = JSON.parse(readFileSync(p, "utf8"));
      else {
        prover ??= await openProver(ctx, inst);
        ({ timings, ...proof } = await prover.prove(b, undefined, { batch: i, batches: batches.length }));
        writeFileSync(p, JSON.stringify(proof));
      }
      ctx.progress?.batches(j.id, { proven: i + 1, submitted: refs.length, total: batches.length });
      const sp = toSolidityProof(proof);
      let txHash = ctx.db.txByKey(key)?.hashes[0];
      if (!onChain || ctx.db.txByKey(key)) {
        const s = sigs.get(b.chunkIndex)!;
        if (BigInt(s.usage) !== sp.pubSignals[1]) throw new Error(`batch ${b.chunkIndex}: proof usage differs from what the training enclave signed`);
        if (i === batches.length - 1 && !ctx.db.txByKey(key) && (await holdForSettlement(ctx, d.deadline))) {
          finalBatch = { chunkIndex: b.chunkIndex, minId: b.minId.toString(), count: b.count };
          ctx.log.info({ jobId: j.id, chunk: b.chunkIndex }, "last batch proven: it goes on chain with the settlement");
        } else {
          txHash = (await ctx.txm.send(key, { to: ctx.registry, data: encodeSubmitBatch(BigInt(j.id), cj.terms, proof, s.signature) })).transactionHash;
        }
      }
      if (!onChain) {
        // measured here, persisted so a resumed run still has an estimate
        msPerBatch = Date.now() - t0;
        ctx.db.advance(j.id, "trained", { msPerBatch });
      }
      refs.push({ chunkIndex: b.chunkIndex, txHash, usage: sp.pubSignals[1].toString(), result: sp.pubSignals[0].toString() });
      // a last batch held for the settlement has no transaction yet: not submitted
      ctx.progress?.batches(j.id, { proven: i + 1, submitted: refs.filter((r) => r.txHash).length, total: batches.length });
      ctx.log.info({ jobId: j.id, batch: i + 1, batches: batches.length, chunk: b.chunkIndex, count: b.count, ...timings }, finalBatch ? "batch proven" : "batch proven and on chain");
      if (CRASH_AFTER === "batch" && !onChain && !finalBatch) {
        ctx.log.warn({ jobId: j.id, chunk: b.chunkIndex }, "RAPHA_CRASH_AFTER_STAGE=batch: exiting");
        process.exit(75);
      }
    }
  } finally {
    await prover?.close();
  }
  // nothing could be put on chain in time: the job stays Accepted until anyone calls expireJob (full refund)
  if (refs.length === 0) return gone("deadline too close to prove a batch", "deadline passed");
  return { stage: "proven", data: { proofRefs: refs, batches: refs.length, finalBatch: finalBatch ?? null } };
}

/** Whether the last batch may wait for the settlement: enabled (submitBatchAndSettle pays the node in
 * the same tx, so only with settle.withdraw), and enough time left before the deadline. */
async function holdForSettlement(ctx: StageContext, deadline: number): Promise<boolean> {
  const s = ctx.home.config.settle;
  return s.mergeLastBatch && s.withdraw && (await secondsToDeadline(ctx, deadline)) >= s.mergeMinSecondsLeft;
}
