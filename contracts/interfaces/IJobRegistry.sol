// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IJobRegistry
/// @notice The job state machine and its event log.
///
///   Created ──acceptJob──▶ Accepted ──submitBatch*──▶ (proofs accumulate) ──settleJob──▶ Settled
///      │                      │  (or settleJobAndWithdraw; or the last batch and the settlement in
///      │                      │   one call: submitBatchAndSettle)
///      │                      │
///      ├─cancelJob─▶ Cancelled   (researcher, full refund)
///      ├─rejectJob─▶ Rejected    (node, reason code, full refund; also from Accepted)
///      │                      ├─exitIdleJob─▶ Exited (researcher, full refund: no batch within
///      │                      │                        NO_BATCH_WINDOW of acceptance)
///      └─expireJob─▶ Expired     (anyone; see the settlement ordering below)
///
/// Storage is lean: one slot per job holding its status (top byte) and the low 248 bits of the
/// keccak256 of its JobTerms (who, price, size, fee, deadline, progress, dataset root, cohort, spec
/// hash, and from acceptance the pinned enclave key and attestation hash; 124-bit collision
/// resistance). Every call after createJob passes the JobTerms in calldata, checked against that
/// hash (TermsMismatch). Everything else (URIs, digests, the full spec) is in the events: JobCreated
/// carries the whole JobSpec and its EIP-712 hash.
///
/// Settlement ordering: batches are accepted until the deadline. The node may settle (recording
/// its receipt hash) until `deadline + SETTLEMENT_GRACE`. expireJob on an accepted job that has
/// proven batches is possible only after that grace, so a node that delivered in time always gets
/// its receipt hash on chain if it settles within the grace; an accepted job with no batch, or a
/// job never accepted, can be expired as soon as the deadline passes.
///
/// Payment = min(proven records, maxRecords) × pricePerRecord, minus the protocol fee locked at
/// funding; the rest of the escrow is refunded. A frozen node (NodeRegistry.setNodeFrozen) cannot
/// settle, and its jobs expire with a full refund. All money moves as pull balances in the vault.
///
/// Lean settlement (docs/PROTOCOL.md, "Settlement paths"): the node may settle in three ways, all
/// with the same checks and the same split. `settleJob` credits its share for a later
/// `vault.withdraw`; `settleJobAndWithdraw` sends its share to the node (the caller) in the
/// settling transaction; `submitBatchAndSettle` also proves the job's last batch in that
/// transaction (its receipt, which cites every batch, is known before submission). Taking its
/// own payment is still a pull (only the caller is paid, only by its own call); the researcher's
/// refund and the fee stay credited for pull, so a reverting or blacklisted party blocks no one.
/// The standard path (submitBatch*, settleJob, withdraw) stays for nodes that want it.
///
/// Reject reason codes (`rejectJob`): 1 POLICY_DENIED, 2 DIGEST_MISMATCH, 3 SCAN_FAILED,
/// 4 COHORT_TOO_SMALL, 5 PRICE_TOO_LOW, 6 OUTPUT_POLICY, 7 DATASET_MISMATCH, 8 DEADLINE_TOO_SHORT,
/// 9 ATTESTATION_FAILED, 10 TRAINING_FAILED, 11 INTERNAL_ERROR. 0 is invalid.
interface IJobRegistry {
    /// @notice Job lifecycle state.
    enum JobStatus {
        None,
        Created,
        Accepted,
        Settled,
        Cancelled,
        Rejected,
        Expired,
        Exited
    }

    /// @notice What a researcher asks for (input of createJob). Its EIP-712 hash (JobCodec.hashSpec,
    /// type JOB_SPEC_TYPEHASH) is committed in the job's terms; the struct itself is only emitted.
    struct JobSpec {
        uint256 datasetId;
        uint256 datasetRoot; // the root the researcher looked at: must equal the dataset's current root
        bytes32 modelDigest; // digest of the model bundle
        string modelURI; // where the node fetches the bundle (emitted only)
        bytes32 cohortHash; // keccak256 of the human-readable cohort document (docs/PROTOCOL.md)
        uint64 cohortParams; // packed cohort predicate, docs/PROTOCOL.md
        bytes32 outputPolicyHash; // keccak256 of the output policy document (docs/PROTOCOL.md)
        uint96 pricePerRecord; // USDC units (6 decimals)
        uint64 maxRecords;
        uint40 deadline; // unix seconds, at most MAX_JOB_DURATION after creation
        bytes32 resultPublicKey; // researcher's X25519 key for the weights
    }

    /// @notice A job's terms and progress: everything settlement needs. Only its hash is stored
    /// (one slot per job, with the status); every call after createJob passes it in calldata and it
    /// is checked against that hash (TermsMismatch). Clients rebuild it from the events: JobCreated
    /// (terms), JobAccepted (enclaveKey, attestationHash, acceptedAt), BatchProven (provenCount,
    /// nextMinId = lastId + 1). Field order is the hash preimage (JobCodec.hashTerms).
    struct JobTerms {
        address researcher;
        address node; // operator of the dataset's node at creation
        address enclaveKey; // zero until accepted; then the key pinned from the approved binding
        uint96 pricePerRecord;
        uint64 maxRecords;
        uint64 cohortParams;
        uint16 feeBps; // locked at funding
        uint40 deadline;
        uint40 acceptedAt; // 0 until accepted
        uint40 provenCount; // Σ count of accepted batches
        uint40 nextMinId; // `minId` the next batch must use: 0, then last accepted lastId + 1
        uint256 datasetRoot;
        bytes32 specHash; // EIP-712 hash of the JobSpec
        bytes32 attestationHash; // zero until accepted; then the approved quote hash pinned
    }

    /// @notice One batch proof, as produced by the node (snarkjs calldata + enclave signature).
    /// pB is in the verifier's order (snarkjs exportSolidityCallData: each G2 coordinate pair as
    /// [c1, c0]), see docs/PROTOCOL.md.
    struct Batch {
        uint256 chunkIndex; // < 2^32
        uint256 result; // public signal 0: count + lastId * 2^32
        uint256 usage; // public signal 1: usage commitment
        uint256[2] pA;
        uint256[2][2] pB;
        uint256[2] pC;
        bytes enclaveSignature; // EIP-712 UsageAttestation(jobId, chunkIndex, usage) by the pinned key
    }

    /// @notice Unknown job id.
    error UnknownJob(uint256 jobId);
    /// @notice The JobTerms given do not hash to the job's stored commitment.
    error TermsMismatch(uint256 jobId);
    /// @notice The job is not in a state that allows this call.
    error InvalidStatus(uint256 jobId, JobStatus status);
    /// @notice The caller is not the job's researcher.
    error NotResearcher(uint256 jobId, address caller);
    /// @notice The caller is not the job's node operator.
    error NotJobNode(uint256 jobId, address caller);
    /// @notice pricePerRecord is zero.
    error ZeroPrice();
    /// @notice maxRecords is zero.
    error ZeroMaxRecords();
    /// @notice The model digest is zero.
    error ZeroModelDigest();
    /// @notice The result public key is zero.
    error ZeroResultPublicKey();
    /// @notice acceptJob needs a non-zero scan report hash.
    error ZeroScanReportHash();
    /// @notice settleJob needs a non-zero receipt hash.
    error ZeroReceiptHash();
    /// @notice The deadline is not in the future.
    error DeadlineInPast(uint256 deadline, uint256 nowTs);
    /// @notice The deadline is later than MAX_JOB_DURATION from now.
    error DeadlineTooFar(uint256 deadline, uint256 maxDeadline);
    /// @notice The deadline has passed.
    error DeadlinePassed(uint256 jobId, uint256 deadline);
    /// @notice The deadline (or, for a job with proven batches, deadline + SETTLEMENT_GRACE) has not passed.
    error TooEarly(uint256 jobId, uint256 notBefore);
    /// @notice The settlement window (deadline + SETTLEMENT_GRACE) has closed.
    error SettlementWindowClosed(uint256 jobId, uint256 closedAt);
    /// @notice The job already has a proven batch: the researcher's idle exit no longer applies.
    error JobNotIdle(uint256 jobId);
    /// @notice Unknown dataset id.
    error UnknownDataset(uint256 datasetId);
    /// @notice The dataset is delisted.
    error DatasetInactive(uint256 datasetId);
    /// @notice The spec's datasetRoot is not the dataset's current root (it changed since the researcher looked).
    error DatasetRootMismatch(uint256 datasetId);
    /// @notice The node is deactivated, frozen, unregistered, its binding unapproved or its measurement revoked.
    error NodeNotEligible(address node);
    /// @notice The node is frozen by governance: it is paid nothing while frozen.
    error NodeFrozen(address node);
    /// @notice The attestation hash is zero or not the node's approved quote hash.
    error AttestationNotApproved(address node, bytes32 attestationHash);
    /// @notice The price is below the dataset's floor.
    error PriceBelowFloor(uint256 price, uint256 floor);
    /// @notice cohortParams violates docs/PROTOCOL.md (reserved bits, ageMin > ageMax, empty sexMask).
    error InvalidCohortParams(uint64 cohortParams);
    /// @notice The reject reason code is not in 1..MAX_REASON_CODE.
    error InvalidReasonCode(uint8 reasonCode);
    /// @notice chunkIndex does not fit in 32 bits.
    error InvalidChunkIndex(uint256 chunkIndex);
    /// @notice The batch's result is malformed (count 0, or lastId out of range).
    error InvalidBatchResult(uint256 result);
    /// @notice The usage attestation does not recover to the enclave key pinned at acceptance.
    error InvalidUsageSignature(uint256 jobId, uint256 chunkIndex);
    /// @notice The Groth16 proof does not verify.
    error InvalidProof(uint256 jobId, uint256 chunkIndex);
    /// @notice A zero address was given.
    error ZeroAddress();
    /// @notice createJobsWithPermit was given no spec.
    error NoJobs();
    /// @notice createJobsWithPermit was given more than MAX_JOBS_PER_CALL specs.
    error TooManyJobs(uint256 count, uint256 max);

    /// @notice A researcher created and funded a job.
    /// @param jobId Job id.
    /// @param researcher Researcher (payer).
    /// @param node Node operator owning the dataset.
    /// @param spec The full job specification as submitted (incl. modelURI, pinned datasetRoot, deadline).
    /// @param specHash EIP-712 hash of `spec` (committed in the terms).
    /// @param feeBps Fee rate locked at funding. With these fields the JobTerms later calls pass are
    /// (researcher, node, 0, spec.pricePerRecord, spec.maxRecords, spec.cohortParams, feeBps,
    /// spec.deadline, 0, 0, 0, spec.datasetRoot, specHash, 0).
    /// @param escrow Amount escrowed (= pricePerRecord × maxRecords).
    /// @param createdAt Block time.
    event JobCreated(
        uint256 indexed jobId,
        address indexed researcher,
        address indexed node,
        JobSpec spec,
        bytes32 specHash,
        uint16 feeBps,
        uint256 escrow,
        uint256 createdAt
    );
    /// @notice The node accepted a job; its enclave key and attestation are pinned for the job.
    /// @param jobId Job id.
    /// @param researcher Researcher.
    /// @param node Node operator.
    /// @param enclaveKey Enclave key pinned for this job (verifies every usage signature).
    /// @param attestationHash Approved quote hash pinned for this job.
    /// @param scanReportHash Hash of the model scan report.
    /// @param acceptedAt Block time.
    event JobAccepted(
        uint256 indexed jobId,
        address indexed researcher,
        address indexed node,
        address enclaveKey,
        bytes32 attestationHash,
        bytes32 scanReportHash,
        uint256 acceptedAt
    );
    /// @notice The node rejected a job; the escrow was refunded in full.
    /// @param jobId Job id.
    /// @param researcher Researcher.
    /// @param node Node operator.
    /// @param reasonCode Reason code (see contract doc).
    /// @param refund Amount credited to the researcher.
    /// @param rejectedAt Block time.
    event JobRejected(
        uint256 indexed jobId,
        address indexed researcher,
        address indexed node,
        uint8 reasonCode,
        uint256 refund,
        uint256 rejectedAt
    );
    /// @notice The researcher cancelled a job before acceptance; full refund.
    /// @param jobId Job id.
    /// @param researcher Researcher.
    /// @param node Node operator.
    /// @param refund Amount credited to the researcher.
    /// @param cancelledAt Block time.
    event JobCancelled(
        uint256 indexed jobId, address indexed researcher, address indexed node, uint256 refund, uint256 cancelledAt
    );
    /// @notice The researcher left an accepted job that received no batch within NO_BATCH_WINDOW; full refund.
    /// @param jobId Job id.
    /// @param researcher Researcher.
    /// @param node Node operator.
    /// @param refund Amount credited to the researcher.
    /// @param exitedAt Block time.
    event JobExited(
        uint256 indexed jobId, address indexed researcher, address indexed node, uint256 refund, uint256 exitedAt
    );
    /// @notice A batch proof was accepted.
    /// @param jobId Job id.
    /// @param researcher Researcher.
    /// @param node Node operator.
    /// @param chunkIndex Dataset chunk proven.
    /// @param count Records proven in this batch.
    /// @param lastId Largest pseudonymous id in the batch.
    /// @param usage Usage commitment.
    /// @param provenCount Total proven so far.
    /// @param provenAt Block time.
    event BatchProven(
        uint256 indexed jobId,
        address indexed researcher,
        address indexed node,
        uint256 chunkIndex,
        uint256 count,
        uint256 lastId,
        uint256 usage,
        uint256 provenCount,
        uint256 provenAt
    );
    /// @notice The node settled a job.
    /// @param jobId Job id.
    /// @param researcher Researcher.
    /// @param node Node operator.
    /// @param provenCount Records proven.
    /// @param paidRecords min(provenCount, maxRecords).
    /// @param nodeAmount Credited to the node (payout minus fee).
    /// @param fee Credited to the treasury.
    /// @param refund Credited to the researcher.
    /// @param receiptHash Hash of the node's receipt (encoding: docs/PROTOCOL.md, "Receipt").
    /// @param settledAt Block time.
    event JobSettled(
        uint256 indexed jobId,
        address indexed researcher,
        address indexed node,
        uint256 provenCount,
        uint256 paidRecords,
        uint256 nodeAmount,
        uint256 fee,
        uint256 refund,
        bytes32 receiptHash,
        uint256 settledAt
    );
    /// @notice A job expired: proven records are paid (nothing if never accepted or the node is
    /// frozen), the rest refunded.
    /// @param jobId Job id.
    /// @param researcher Researcher.
    /// @param node Node operator.
    /// @param paidRecords Records paid.
    /// @param nodeAmount Credited to the node.
    /// @param fee Credited to the treasury.
    /// @param refund Credited to the researcher.
    /// @param caller Who triggered the expiry.
    /// @param expiredAt Block time.
    event JobExpired(
        uint256 indexed jobId,
        address indexed researcher,
        address indexed node,
        uint256 paidRecords,
        uint256 nodeAmount,
        uint256 fee,
        uint256 refund,
        address caller,
        uint256 expiredAt
    );

    /// @notice BN254 scalar field order r (= JobCodec.SNARK_SCALAR_FIELD).
    /// @return r.
    function SNARK_SCALAR_FIELD() external view returns (uint256);

    /// @notice Longest allowed job: deadline <= creation time + MAX_JOB_DURATION (90 days).
    /// @return Seconds.
    function MAX_JOB_DURATION() external view returns (uint256);

    /// @notice After acceptance, the researcher may exitIdleJob if no batch arrived within this (2 days).
    /// @return Seconds.
    function NO_BATCH_WINDOW() external view returns (uint256);

    /// @notice The node may settle until deadline + SETTLEMENT_GRACE (2 days); expireJob of a job
    /// with proven batches only after it.
    /// @return Seconds.
    function SETTLEMENT_GRACE() external view returns (uint256);

    /// @notice Most specs createJobsWithPermit takes in one call (16): bounds its gas.
    /// @return Count.
    function MAX_JOBS_PER_CALL() external view returns (uint256);

    /// @notice Creates a job and escrows pricePerRecord × maxRecords USDC from the caller, who must
    /// have approved the vault for that amount.
    /// @param spec The job specification.
    /// @return jobId The new job's id.
    function createJob(JobSpec calldata spec) external returns (uint256 jobId);

    /// @notice Creates a job, escrowing with an EIP-2612 permit (owner = caller, spender = vault,
    /// value = pricePerRecord × maxRecords). If the permit fails but the allowance already covers the
    /// escrow (e.g. the permit was front-run), funding still succeeds.
    /// @param spec The job specification.
    /// @param permitDeadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    /// @return jobId The new job's id.
    function createJobWithPermit(JobSpec calldata spec, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        returns (uint256 jobId);

    /// @notice Creates one job per spec (any datasets, any nodes) and escrows their total,
    /// Σ pricePerRecord × maxRecords, with ONE EIP-2612 permit (owner = caller, spender = vault,
    /// value = that total) and one transfer. Every spec is checked as in createJob; one invalid spec,
    /// or a failed funding, reverts them all. Emits one JobCreated per job, ids consecutive in spec
    /// order. A failed permit is ignored when the allowance already covers the total.
    /// @param specs 1..MAX_JOBS_PER_CALL job specifications (NoJobs, TooManyJobs).
    /// @param permitDeadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    /// @return jobIds The new jobs' ids, in spec order.
    function createJobsWithPermit(JobSpec[] calldata specs, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        returns (uint256[] memory jobIds);

    /// @notice Cancels a job no node has accepted yet (researcher); the escrow is refunded in full.
    /// @param jobId Job id.
    /// @param terms The job's terms (as in JobCreated).
    function cancelJob(uint256 jobId, JobTerms calldata terms) external;

    /// @notice Accepts a job (its node, while eligible, before the deadline). Pins the node's approved
    /// enclave key and quote hash into the job's terms.
    /// @param jobId Job id.
    /// @param terms The job's terms as created (enclaveKey and attestationHash zero).
    /// @param scanReportHash Hash of the model scan report (non-zero).
    /// @param attestationHash The node's approved quote hash (must equal it).
    /// @return pinned The new terms (enclaveKey, attestationHash, acceptedAt set) later calls must pass.
    function acceptJob(uint256 jobId, JobTerms calldata terms, bytes32 scanReportHash, bytes32 attestationHash)
        external
        returns (JobTerms memory pinned);

    /// @notice Rejects a job (its node; from Created or Accepted); full refund to the researcher,
    /// including anything already proven.
    /// @param jobId Job id.
    /// @param terms The job's current terms.
    /// @param reasonCode Reason code, 1..MAX_REASON_CODE (see contract doc).
    function rejectJob(uint256 jobId, JobTerms calldata terms, uint8 reasonCode) external;

    /// @notice Submits one batch proof (the job's node, until the deadline). Builds the five public
    /// signals of docs/PROTOCOL.md (JobCodec.publicSignals), checks the EIP-712 UsageAttestation
    /// against the key pinned at acceptance, verifies the Groth16 proof and accumulates the count; the
    /// next batch must start at lastId + 1, so replays, reorders and overlaps fail.
    /// @param jobId Job id.
    /// @param terms The job's accepted terms.
    /// @param batch The batch (proof, outputs, enclave signature).
    function submitBatch(uint256 jobId, JobTerms calldata terms, Batch calldata batch) external;

    /// @notice Settles an accepted job (its node, not frozen, until deadline + SETTLEMENT_GRACE):
    /// pays min(provenCount, maxRecords) × pricePerRecord minus the fee to the node, the fee to the
    /// treasury, refunds the rest, and records the receipt hash.
    /// @param jobId Job id.
    /// @param terms The job's accepted terms.
    /// @param receiptHash Hash of the node's receipt (docs/PROTOCOL.md, "Receipt"), non-zero.
    function settleJob(uint256 jobId, JobTerms calldata terms, bytes32 receiptHash) external;

    /// @notice settleJob, then sends the node's share (payout minus fee) to the node, the caller,
    /// in the same transaction instead of crediting it (the vault emits Withdrawn(node, node,
    /// amount)); the fee and the refund are credited as in settleJob. The job is Settled before any
    /// token moves; non-reentrant. Use settleJob when the node's address cannot receive the token.
    /// @param jobId Job id.
    /// @param terms The job's accepted terms.
    /// @param receiptHash Hash of the node's receipt (docs/PROTOCOL.md, "Receipt"), non-zero.
    /// @return nodeAmount Amount sent to the node.
    function settleJobAndWithdraw(uint256 jobId, JobTerms calldata terms, bytes32 receiptHash)
        external
        returns (uint256 nodeAmount);

    /// @notice The job's last batch and its settlement in one transaction (the job's node, not
    /// frozen, until the deadline): submitBatch's checks and proof verification, then
    /// settleJobAndWithdraw's settlement on the terms including this batch (BatchProven, then
    /// JobSettled; the node's share is sent to the node). A zero receipt hash or a frozen node is
    /// refused before the proof is verified. The stored commitment is that of the terms after the
    /// batch, so the terms rebuilt from the events still match it.
    /// @param jobId Job id.
    /// @param terms The job's accepted terms before this batch.
    /// @param batch The last batch (proof, outputs, enclave signature).
    /// @param receiptHash Hash of the node's receipt, which cites this batch, non-zero.
    /// @return nodeAmount Amount sent to the node.
    function submitBatchAndSettle(uint256 jobId, JobTerms calldata terms, Batch calldata batch, bytes32 receiptHash)
        external
        returns (uint256 nodeAmount);

    /// @notice Expires a job (anyone): a never-accepted job or an accepted job without batches after
    /// the deadline (full refund); an accepted job with batches after deadline + SETTLEMENT_GRACE
    /// (pays what was proven unless the node is frozen, refunds the rest).
    /// @param jobId Job id.
    /// @param terms The job's current terms.
    function expireJob(uint256 jobId, JobTerms calldata terms) external;

    /// @notice The researcher leaves an accepted job that received no batch within NO_BATCH_WINDOW
    /// of acceptance; full refund.
    /// @param jobId Job id.
    /// @param terms The job's accepted terms.
    function exitIdleJob(uint256 jobId, JobTerms calldata terms) external;

    /// @notice A job's status and the commitment to its current JobTerms.
    /// @param jobId Job id.
    /// @return status The status (None when unknown).
    /// @return termsHash Low 248 bits of keccak256(abi.encode(terms)) (zero when unknown).
    function getJob(uint256 jobId) external view returns (JobStatus status, bytes32 termsHash);

    /// @notice The commitment a JobTerms value must match (low 248 bits of its keccak256).
    /// @param terms The terms.
    /// @return The commitment, comparable with getJob's termsHash.
    function hashTerms(JobTerms calldata terms) external pure returns (bytes32);

    /// @notice The `jobBinding` public signal: keccak256(abi.encode(chainid, this, jobId, node)) mod r.
    /// @param jobId Job id.
    /// @param node The job's node operator.
    /// @return The binding.
    function jobBinding(uint256 jobId, address node) external view returns (uint256);

    /// @notice The five public signals submitBatch would verify, for the agent and auditors.
    /// @param jobId Job id (must exist).
    /// @param terms The job's terms.
    /// @param chunkIndex Chunk index.
    /// @param result Public signal 0.
    /// @param usage Public signal 1.
    /// @return signals [result, usage, datasetRoot, jobBinding, params] for terms.nextMinId.
    function publicSignals(uint256 jobId, JobTerms calldata terms, uint256 chunkIndex, uint256 result, uint256 usage)
        external
        view
        returns (uint256[5] memory signals);

    /// @notice The EIP-712 digest the enclave signs for a batch.
    /// @param jobId Job id.
    /// @param chunkIndex Chunk index.
    /// @param usage Usage commitment.
    /// @return The digest.
    function usageAttestationDigest(uint256 jobId, uint256 chunkIndex, uint256 usage) external view returns (bytes32);

    /// @notice The EIP-712 hash of a job spec (what JobCreated.specHash and the terms carry).
    /// @param spec The spec.
    /// @return The struct hash.
    function hashSpec(JobSpec calldata spec) external pure returns (bytes32);
}
