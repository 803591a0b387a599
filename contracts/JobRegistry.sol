// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IRecordCountVerifier} from "./interfaces/IRecordCountVerifier.sol";
import {NodeRegistry} from "./NodeRegistry.sol";
import {RaphaClearingVault} from "./RaphaClearingVault.sol";

/// @title JobRegistry
/// @notice The job state machine and its event log.
///
///   Created ──acceptJob──▶ Accepted ──submitBatch*──▶ (proofs accumulate) ──settleJob──▶ Settled
///      │                      │
///      ├─cancelJob─▶ Cancelled (researcher, full refund)
///      ├─rejectJob─▶ Rejected  (node, reason code, full refund; also from Accepted)
///      └─expireJob─▶ Expired   (anyone after the deadline; also from Accepted: pays what was proven)
///
/// Payment = min(proven records, maxRecords) × pricePerRecord, minus the protocol fee (locked at
/// funding); the rest of the escrow is refunded. All money moves as pull balances in the vault.
/// Public signals and the usage attestation follow docs/PROTOCOL.md exactly.
///
/// Reject reason codes (`rejectJob`): 1 POLICY_DENIED, 2 DIGEST_MISMATCH, 3 SCAN_FAILED,
/// 4 COHORT_TOO_SMALL, 5 PRICE_TOO_LOW, 6 OUTPUT_POLICY, 7 DATASET_MISMATCH, 8 DEADLINE_TOO_SHORT,
/// 9 ATTESTATION_FAILED, 10 TRAINING_FAILED, 11 INTERNAL_ERROR. 0 is invalid.
contract JobRegistry is AccessControl, Pausable, ReentrancyGuardTransient, EIP712 {
    /// @notice Role allowed to pause and unpause job creation (funding) and acceptance.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice BN254 scalar field modulus.
    uint256 public constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416459031163510440016186949353;
    /// @notice EIP-712 type hash of `UsageAttestation(uint256 jobId,uint256 chunkIndex,uint256 usage)`.
    bytes32 public constant USAGE_ATTESTATION_TYPEHASH =
        keccak256("UsageAttestation(uint256 jobId,uint256 chunkIndex,uint256 usage)");
    /// @notice Largest valid reject reason code (codes are 1..MAX_REASON_CODE).
    uint8 public constant MAX_REASON_CODE = 11;

    uint256 private constant MASK32 = 0xffffffff;
    /// @dev cohortParams bits 29..63 are reserved and must be zero (docs/PROTOCOL.md).
    uint64 private constant COHORT_RESERVED_MASK = ~uint64((1 << 29) - 1);

    /// @notice Job lifecycle state.
    enum JobStatus {
        None,
        Created,
        Accepted,
        Settled,
        Cancelled,
        Rejected,
        Expired
    }

    /// @notice What a researcher asks for (input of createJob).
    struct JobSpec {
        uint256 datasetId;
        bytes32 modelDigest; // sha-256/keccak digest of the model bundle
        string modelURI; // where the node fetches the bundle
        bytes32 cohortHash; // keccak256 of the human-readable cohort JSON
        uint64 cohortParams; // packed cohort predicate, docs/PROTOCOL.md
        bytes32 outputPolicyHash;
        uint128 pricePerRecord; // USDC units (6 decimals)
        uint64 maxRecords;
        uint64 deadline; // unix seconds
        bytes32 resultPublicKey; // researcher's X25519 key for the weights
    }

    /// @notice A stored job (returned by getJob).
    struct Job {
        // slot 0
        address researcher;
        uint64 deadline;
        JobStatus status;
        // slot 1
        address node; // operator of the dataset's node, snapshotted at creation
        uint64 maxRecords;
        // slot 2
        uint128 pricePerRecord;
        uint64 provenCount; // Σ count of accepted batches
        uint64 nextMinId; // `minId` the next batch must use: 0, then last accepted lastId + 1
        // slot 3
        uint64 cohortParams;
        uint64 createdAt;
        uint64 acceptedAt;
        // further slots
        uint256 datasetId;
        uint256 datasetRoot; // snapshotted at creation
        bytes32 modelDigest;
        bytes32 cohortHash;
        bytes32 outputPolicyHash;
        bytes32 resultPublicKey;
        string modelURI;
    }

    /// @notice One batch proof, as produced by the node (snarkjs calldata + enclave signature).
    struct Batch {
        uint256 chunkIndex; // < 2^32
        uint256 result; // public signal 0: count + lastId * 2^32
        uint256 usage; // public signal 1: usage commitment
        uint256[2] pA;
        uint256[2][2] pB;
        uint256[2] pC;
        bytes enclaveSignature; // EIP-712 UsageAttestation(jobId, chunkIndex, usage) by the enclave key
    }

    /// @notice Groth16 verifier of the record-count circuit.
    IRecordCountVerifier public immutable verifier;
    /// @notice Node and dataset registry.
    NodeRegistry public immutable nodeRegistry;
    /// @notice Escrow vault.
    RaphaClearingVault public immutable vault;

    /// @notice Id the next job receives (ids start at 1).
    uint256 public nextJobId = 1;

    mapping(uint256 jobId => Job) private _jobs;

    /// @notice Unknown job id.
    error UnknownJob(uint256 jobId);
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
    /// @notice The deadline is not in the future.
    error DeadlineInPast(uint64 deadline, uint256 nowTs);
    /// @notice The deadline has passed.
    error DeadlinePassed(uint256 jobId, uint64 deadline);
    /// @notice The deadline has not passed yet.
    error DeadlineNotReached(uint256 jobId, uint64 deadline);
    /// @notice Unknown dataset id.
    error UnknownDataset(uint256 datasetId);
    /// @notice The dataset is delisted.
    error DatasetInactive(uint256 datasetId);
    /// @notice The node is deactivated, unregistered, or its measurement is not allowlisted.
    error NodeNotEligible(address node);
    /// @notice The price is below the dataset's floor.
    error PriceBelowFloor(uint256 price, uint256 floor);
    /// @notice pricePerRecord × maxRecords does not fit in 128 bits.
    error EscrowTooLarge();
    /// @notice cohortParams violates docs/PROTOCOL.md (reserved bits, ageMin > ageMax, empty sexMask).
    error InvalidCohortParams(uint64 cohortParams);
    /// @notice The reject reason code is not in 1..MAX_REASON_CODE.
    error InvalidReasonCode(uint8 reasonCode);
    /// @notice chunkIndex does not fit in 32 bits.
    error InvalidChunkIndex(uint256 chunkIndex);
    /// @notice The batch's result is malformed (count 0, or lastId out of range).
    error InvalidBatchResult(uint256 result);
    /// @notice The usage attestation does not recover to the node's enclave signer.
    error InvalidUsageSignature(uint256 jobId, uint256 chunkIndex);
    /// @notice The Groth16 proof does not verify.
    error InvalidProof(uint256 jobId, uint256 chunkIndex);
    /// @notice A zero address was given.
    error ZeroAddress();

    /// @notice A researcher created and funded a job.
    /// @param jobId Job id.
    /// @param researcher Researcher (payer).
    /// @param node Node operator owning the dataset.
    /// @param spec The full job specification as submitted.
    /// @param datasetRoot Dataset root snapshotted for the proofs.
    /// @param escrow Amount escrowed (= pricePerRecord × maxRecords).
    /// @param createdAt Block time.
    event JobCreated(
        uint256 indexed jobId,
        address indexed researcher,
        address indexed node,
        JobSpec spec,
        uint256 datasetRoot,
        uint256 escrow,
        uint256 createdAt
    );
    /// @notice The node accepted a job.
    /// @param jobId Job id.
    /// @param researcher Researcher.
    /// @param node Node operator.
    /// @param scanReportHash Hash of the model scan report.
    /// @param attestationHash Hash of the enclave attestation for this job.
    /// @param acceptedAt Block time.
    event JobAccepted(
        uint256 indexed jobId,
        address indexed researcher,
        address indexed node,
        bytes32 scanReportHash,
        bytes32 attestationHash,
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
    /// @param receiptHash Hash of the node's off-chain receipt (results, metrics).
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
    /// @notice A job expired: proven records are paid, the rest refunded.
    /// @param jobId Job id.
    /// @param researcher Researcher.
    /// @param node Node operator.
    /// @param paidRecords Records paid (0 if never accepted).
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

    /// @param verifier_ Record-count Groth16 verifier (immutable).
    /// @param nodeRegistry_ Node registry.
    /// @param vault_ Escrow vault (its `setJobRegistry` must then be called with this address).
    /// @param admin DEFAULT_ADMIN_ROLE holder.
    /// @param pauser PAUSER_ROLE holder.
    constructor(
        IRecordCountVerifier verifier_,
        NodeRegistry nodeRegistry_,
        RaphaClearingVault vault_,
        address admin,
        address pauser
    ) EIP712("Rapha JobRegistry", "1") {
        if (
            address(verifier_) == address(0) || address(nodeRegistry_) == address(0) || address(vault_) == address(0)
                || admin == address(0)
        ) {
            revert ZeroAddress();
        }
        verifier = verifier_;
        nodeRegistry = nodeRegistry_;
        vault = vault_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, pauser);
    }

    // ------------------------------------------------------------------ pause

    /// @notice Pauses job creation (funding) and acceptance. Proofs, settlement, refunds and
    /// withdrawals are never paused.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Unpauses job creation and acceptance.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ researcher

    /// @notice Creates a job and escrows pricePerRecord × maxRecords USDC from the caller, who
    /// must have approved the vault for that amount.
    /// @param spec The job specification.
    /// @return jobId The new job's id.
    function createJob(JobSpec calldata spec) external whenNotPaused nonReentrant returns (uint256 jobId) {
        uint256 escrow;
        (jobId, escrow) = _createJob(spec);
        vault.fund(jobId, msg.sender, escrow);
    }

    /// @notice Creates a job, escrowing with an EIP-2612 permit (owner = caller, spender = vault,
    /// value = pricePerRecord × maxRecords). If the permit fails but the allowance already covers
    /// the escrow (e.g. the permit was front-run), funding still succeeds.
    /// @param spec The job specification.
    /// @param permitDeadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    /// @return jobId The new job's id.
    function createJobWithPermit(JobSpec calldata spec, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 jobId)
    {
        uint256 escrow;
        (jobId, escrow) = _createJob(spec);
        vault.fundWithPermit(jobId, msg.sender, escrow, permitDeadline, v, r, s);
    }

    /// @notice Cancels a job that no node has accepted yet; the escrow is refunded in full.
    /// @param jobId Job id.
    function cancelJob(uint256 jobId) external nonReentrant {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Created) revert InvalidStatus(jobId, job.status);
        if (msg.sender != job.researcher) revert NotResearcher(jobId, msg.sender);
        job.status = JobStatus.Cancelled;
        (,, uint256 refund) = vault.release(jobId, job.researcher, job.node, 0);
        emit JobCancelled(jobId, job.researcher, job.node, refund, block.timestamp);
    }

    // ------------------------------------------------------------------ node

    /// @notice Accepts a job (only the job's node, while eligible, before the deadline).
    /// @param jobId Job id.
    /// @param scanReportHash Hash of the model scan report.
    /// @param attestationHash Hash of the enclave attestation for this job.
    function acceptJob(uint256 jobId, bytes32 scanReportHash, bytes32 attestationHash) external whenNotPaused {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Created) revert InvalidStatus(jobId, job.status);
        if (msg.sender != job.node) revert NotJobNode(jobId, msg.sender);
        if (block.timestamp > job.deadline) revert DeadlinePassed(jobId, job.deadline);
        if (!nodeRegistry.isNodeEligible(msg.sender)) revert NodeNotEligible(msg.sender);
        job.status = JobStatus.Accepted;
        job.acceptedAt = uint64(block.timestamp);
        emit JobAccepted(jobId, job.researcher, msg.sender, scanReportHash, attestationHash, block.timestamp);
    }

    /// @notice Rejects a job (only the job's node; from Created or Accepted); the escrow is
    /// refunded to the researcher in full at once, including anything already proven.
    /// @param jobId Job id.
    /// @param reasonCode Reason code, 1..MAX_REASON_CODE (see contract doc).
    function rejectJob(uint256 jobId, uint8 reasonCode) external nonReentrant {
        Job storage job = _job(jobId);
        JobStatus status = job.status;
        if (status != JobStatus.Created && status != JobStatus.Accepted) revert InvalidStatus(jobId, status);
        if (msg.sender != job.node) revert NotJobNode(jobId, msg.sender);
        if (reasonCode == 0 || reasonCode > MAX_REASON_CODE) revert InvalidReasonCode(reasonCode);
        job.status = JobStatus.Rejected;
        (,, uint256 refund) = vault.release(jobId, job.researcher, msg.sender, 0);
        emit JobRejected(jobId, job.researcher, msg.sender, reasonCode, refund, block.timestamp);
    }

    /// @notice Submits one batch proof. Builds the five public signals of docs/PROTOCOL.md from
    /// the job (snapshotted dataset root, jobBinding, chunkIndex, the job's nextMinId, cohortParams),
    /// checks the enclave's EIP-712 UsageAttestation, verifies the Groth16 proof and accumulates
    /// the count; the next batch must start at lastId + 1, so replays, reorders and overlaps fail.
    /// Only the job's node, while eligible, before the deadline.
    /// @param jobId Job id.
    /// @param batch The batch (proof, outputs, enclave signature).
    function submitBatch(uint256 jobId, Batch calldata batch) external nonReentrant {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Accepted) revert InvalidStatus(jobId, job.status);
        address node = job.node;
        if (msg.sender != node) revert NotJobNode(jobId, msg.sender);
        if (block.timestamp > job.deadline) revert DeadlinePassed(jobId, job.deadline);
        if (batch.chunkIndex > MASK32) revert InvalidChunkIndex(batch.chunkIndex);
        uint256 minId = job.nextMinId;
        uint256 count = batch.result & MASK32;
        uint256 lastId = batch.result >> 32;
        if (count == 0 || lastId < minId || lastId > MASK32) revert InvalidBatchResult(batch.result);
        _checkUsageAttestation(jobId, node, batch);
        _verifyBatch(jobId, job, node, minId, batch);

        uint64 proven = job.provenCount + uint64(count);
        job.provenCount = proven;
        job.nextMinId = uint64(lastId + 1);
        _emitBatchProven(jobId, job, batch, count, lastId, proven);
    }

    /// @notice Settles an accepted job (only its node): pays min(provenCount, maxRecords) ×
    /// pricePerRecord minus the fee to the node, the fee to the treasury, and refunds the rest.
    /// @param jobId Job id.
    /// @param receiptHash Hash of the node's off-chain receipt.
    function settleJob(uint256 jobId, bytes32 receiptHash) external nonReentrant {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Accepted) revert InvalidStatus(jobId, job.status);
        address node = job.node;
        if (msg.sender != node) revert NotJobNode(jobId, msg.sender);
        job.status = JobStatus.Settled;
        uint256 paid = _paidRecords(job);
        (uint256 nodeAmount, uint256 fee, uint256 refund) =
            vault.release(jobId, job.researcher, node, paid * job.pricePerRecord);
        _emitSettled(jobId, job, paid, nodeAmount, fee, refund, receiptHash);
    }

    // ------------------------------------------------------------------ anyone

    /// @notice Expires a job after its deadline (anyone): an accepted job pays what was proven,
    /// a never-accepted job pays nothing; the rest is refunded.
    /// @param jobId Job id.
    function expireJob(uint256 jobId) external nonReentrant {
        Job storage job = _job(jobId);
        JobStatus status = job.status;
        if (status != JobStatus.Created && status != JobStatus.Accepted) revert InvalidStatus(jobId, status);
        if (block.timestamp <= job.deadline) revert DeadlineNotReached(jobId, job.deadline);
        job.status = JobStatus.Expired;
        uint256 paid = status == JobStatus.Accepted ? _paidRecords(job) : 0;
        (uint256 nodeAmount, uint256 fee, uint256 refund) =
            vault.release(jobId, job.researcher, job.node, paid * job.pricePerRecord);
        emit JobExpired(jobId, job.researcher, job.node, paid, nodeAmount, fee, refund, msg.sender, block.timestamp);
    }

    // ------------------------------------------------------------------ views

    /// @notice Returns a job.
    /// @param jobId Job id.
    /// @return The job (status None when unknown).
    function getJob(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @notice The `jobBinding` public signal: keccak256(abi.encode(chainid, this, jobId, node)) mod p.
    /// @param jobId Job id (must exist).
    /// @return The binding.
    function jobBinding(uint256 jobId) external view returns (uint256) {
        return _jobBinding(jobId, _job(jobId).node);
    }

    /// @notice The `minId` the next batch of a job must use (0 for the first batch).
    /// @param jobId Job id (must exist).
    /// @return The next minId (2^32 once a batch ended at id 2^32 - 1).
    function nextMinId(uint256 jobId) external view returns (uint256) {
        return _job(jobId).nextMinId;
    }

    /// @notice The five public signals submitBatch would verify, for the agent and auditors.
    /// @param jobId Job id (must exist).
    /// @param chunkIndex Chunk index.
    /// @param result Public signal 0.
    /// @param usage Public signal 1.
    /// @return signals [result, usage, datasetRoot, jobBinding, params] for the job's current minId.
    function publicSignals(uint256 jobId, uint256 chunkIndex, uint256 result, uint256 usage)
        external
        view
        returns (uint256[5] memory signals)
    {
        Job storage job = _job(jobId);
        signals = [
            result,
            usage,
            job.datasetRoot,
            _jobBinding(jobId, job.node),
            chunkIndex | (uint256(job.nextMinId) << 32) | (uint256(job.cohortParams) << 96)
        ];
    }

    /// @notice The EIP-712 digest the enclave signs for a batch.
    /// @param jobId Job id.
    /// @param chunkIndex Chunk index.
    /// @param usage Usage commitment.
    /// @return The digest.
    function usageAttestationDigest(uint256 jobId, uint256 chunkIndex, uint256 usage) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(USAGE_ATTESTATION_TYPEHASH, jobId, chunkIndex, usage)));
    }

    /// @notice The gross amount a job would pay its node if settled now.
    /// @param jobId Job id.
    /// @return min(provenCount, maxRecords) × pricePerRecord.
    function currentPayout(uint256 jobId) external view returns (uint256) {
        Job storage job = _jobs[jobId];
        return _paidRecords(job) * job.pricePerRecord;
    }

    // ------------------------------------------------------------------ internal

    function _createJob(JobSpec calldata spec) private returns (uint256 jobId, uint256 escrow) {
        if (spec.pricePerRecord == 0) revert ZeroPrice();
        if (spec.maxRecords == 0) revert ZeroMaxRecords();
        if (spec.modelDigest == bytes32(0)) revert ZeroModelDigest();
        if (spec.resultPublicKey == bytes32(0)) revert ZeroResultPublicKey();
        if (spec.deadline <= block.timestamp) revert DeadlineInPast(spec.deadline, block.timestamp);
        _checkCohortParams(spec.cohortParams);
        escrow = uint256(spec.pricePerRecord) * spec.maxRecords;
        if (escrow > type(uint128).max) revert EscrowTooLarge();

        (address node, uint256 root, uint128 floor, bool datasetActive, bool nodeEligible) =
            nodeRegistry.datasetTerms(spec.datasetId);
        if (node == address(0)) revert UnknownDataset(spec.datasetId);
        if (!datasetActive) revert DatasetInactive(spec.datasetId);
        if (!nodeEligible) revert NodeNotEligible(node);
        if (spec.pricePerRecord < floor) revert PriceBelowFloor(spec.pricePerRecord, floor);

        jobId = nextJobId++;
        Job storage job = _jobs[jobId];
        job.researcher = msg.sender;
        job.deadline = spec.deadline;
        job.status = JobStatus.Created;
        job.node = node;
        job.maxRecords = spec.maxRecords;
        job.pricePerRecord = spec.pricePerRecord;
        job.cohortParams = spec.cohortParams;
        job.createdAt = uint64(block.timestamp);
        job.datasetId = spec.datasetId;
        job.datasetRoot = root;
        job.modelDigest = spec.modelDigest;
        job.cohortHash = spec.cohortHash;
        job.outputPolicyHash = spec.outputPolicyHash;
        job.resultPublicKey = spec.resultPublicKey;
        job.modelURI = spec.modelURI;
        emit JobCreated(jobId, msg.sender, node, spec, root, escrow, block.timestamp);
    }

    function _checkUsageAttestation(uint256 jobId, address node, Batch calldata batch) private view {
        address signer = nodeRegistry.eligibleSigner(node);
        if (signer == address(0)) revert NodeNotEligible(node);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(USAGE_ATTESTATION_TYPEHASH, jobId, batch.chunkIndex, batch.usage))
        );
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, batch.enclaveSignature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) {
            revert InvalidUsageSignature(jobId, batch.chunkIndex);
        }
    }

    function _verifyBatch(uint256 jobId, Job storage job, address node, uint256 minId, Batch calldata batch)
        private
        view
    {
        uint256[5] memory signals = [
            batch.result,
            batch.usage,
            job.datasetRoot,
            _jobBinding(jobId, node),
            batch.chunkIndex | (minId << 32) | (uint256(job.cohortParams) << 96)
        ];
        if (!verifier.verifyProof(batch.pA, batch.pB, batch.pC, signals)) revert InvalidProof(jobId, batch.chunkIndex);
    }

    function _emitBatchProven(
        uint256 jobId,
        Job storage job,
        Batch calldata batch,
        uint256 count,
        uint256 lastId,
        uint256 proven
    ) private {
        emit BatchProven(
            jobId, job.researcher, job.node, batch.chunkIndex, count, lastId, batch.usage, proven, block.timestamp
        );
    }

    function _emitSettled(
        uint256 jobId,
        Job storage job,
        uint256 paid,
        uint256 nodeAmount,
        uint256 fee,
        uint256 refund,
        bytes32 receiptHash
    ) private {
        emit JobSettled(
            jobId, job.researcher, job.node, job.provenCount, paid, nodeAmount, fee, refund, receiptHash, block.timestamp
        );
    }

    function _checkCohortParams(uint64 p) private pure {
        uint64 ageMin = p & 0x7f;
        uint64 ageMax = (p >> 7) & 0x7f;
        uint64 sexMask = (p >> 14) & 0x7;
        if (p & COHORT_RESERVED_MASK != 0 || ageMin > ageMax || sexMask == 0) revert InvalidCohortParams(p);
    }

    function _job(uint256 jobId) private view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status == JobStatus.None) revert UnknownJob(jobId);
    }

    function _paidRecords(Job storage job) private view returns (uint256) {
        uint256 proven = job.provenCount;
        uint256 max = job.maxRecords;
        return proven < max ? proven : max;
    }

    function _jobBinding(uint256 jobId, address node) private view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), jobId, node))) % SNARK_SCALAR_FIELD;
    }
}
