// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IJobRegistry} from "./interfaces/IJobRegistry.sol";
import {INodeRegistry} from "./interfaces/INodeRegistry.sol";
import {IRaphaClearingVault} from "./interfaces/IRaphaClearingVault.sol";
import {IRecordCountVerifier} from "./interfaces/IRecordCountVerifier.sol";
import {JobCodec} from "./libraries/JobCodec.sol";

/// @title JobRegistry
/// @notice The job state machine (see IJobRegistry for the lifecycle, the lean storage layout, the
/// settlement ordering and the freeze rule).
/// @dev Reentrancy: only createJob/createJobWithPermit/createJobsWithPermit, settleJobAndWithdraw and
/// submitBatchAndSettle reach untrusted code (the token, through the vault) and carry the guard;
/// the two settling ones write the job's final status before the vault moves any token. Every
/// other entry point calls only the immutable verifier and node registry (views) and
/// `vault.release`, which credits balances without any external call, after the job's status has
/// been written.
contract JobRegistry is IJobRegistry, AccessControl, Pausable, ReentrancyGuardTransient, EIP712 {
    /// @notice Role allowed to pause and unpause job creation (funding) and acceptance.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IJobRegistry
    uint256 public constant SNARK_SCALAR_FIELD = JobCodec.SNARK_SCALAR_FIELD;
    /// @notice EIP-712 type hash of `UsageAttestation(uint256 jobId,uint256 chunkIndex,uint256 usage)`.
    bytes32 public constant USAGE_ATTESTATION_TYPEHASH = JobCodec.USAGE_ATTESTATION_TYPEHASH;
    /// @notice EIP-712 type hash of JobSpec (see JobCodec).
    bytes32 public constant JOB_SPEC_TYPEHASH = JobCodec.JOB_SPEC_TYPEHASH;
    /// @notice Largest valid reject reason code (codes are 1..MAX_REASON_CODE).
    uint8 public constant MAX_REASON_CODE = 11;
    /// @inheritdoc IJobRegistry
    uint256 public constant MAX_JOB_DURATION = 90 days;
    /// @inheritdoc IJobRegistry
    uint256 public constant NO_BATCH_WINDOW = 2 days;
    /// @inheritdoc IJobRegistry
    uint256 public constant SETTLEMENT_GRACE = 2 days;
    /// @inheritdoc IJobRegistry
    uint256 public constant MAX_JOBS_PER_CALL = 16;

    /// @dev cohortParams bits 29..63 are reserved and must be zero (docs/PROTOCOL.md).
    uint64 private constant COHORT_RESERVED_MASK = ~uint64((1 << 29) - 1);

    /// @notice Groth16 verifier of the record-count circuit.
    IRecordCountVerifier public immutable verifier;
    /// @notice Node and dataset registry.
    INodeRegistry public immutable nodeRegistry;
    /// @notice Escrow vault.
    IRaphaClearingVault public immutable vault;

    /// @notice Id the next job receives (ids start at 1).
    uint256 public nextJobId = 1;

    /// @dev status << 248 | low 248 bits of keccak256(abi.encode(terms)) (JobCodec.packJob).
    mapping(uint256 jobId => uint256) private _jobs;

    /// @param verifier_ Record-count Groth16 verifier (immutable).
    /// @param nodeRegistry_ Node registry.
    /// @param vault_ Escrow vault (its `setJobRegistry` must then be called with this address).
    /// @param admin DEFAULT_ADMIN_ROLE holder.
    /// @param pauser PAUSER_ROLE holder.
    constructor(
        IRecordCountVerifier verifier_,
        INodeRegistry nodeRegistry_,
        IRaphaClearingVault vault_,
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

    /// @inheritdoc IJobRegistry
    function createJob(JobSpec calldata spec) external whenNotPaused nonReentrant returns (uint256 jobId) {
        uint256 escrow;
        (jobId, escrow) = _createJob(spec);
        vault.fund(msg.sender, escrow);
    }

    /// @inheritdoc IJobRegistry
    function createJobWithPermit(JobSpec calldata spec, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 jobId)
    {
        uint256 escrow;
        (jobId, escrow) = _createJob(spec);
        vault.fundWithPermit(msg.sender, escrow, permitDeadline, v, r, s);
    }

    /// @inheritdoc IJobRegistry
    function createJobsWithPermit(JobSpec[] calldata specs, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        nonReentrant
        returns (uint256[] memory jobIds)
    {
        uint256 n = specs.length;
        if (n == 0) revert NoJobs();
        if (n > MAX_JOBS_PER_CALL) revert TooManyJobs(n, MAX_JOBS_PER_CALL);
        jobIds = new uint256[](n);
        uint256 total; // each escrow < 2^160, so 16 of them cannot overflow
        for (uint256 i; i < n; ++i) {
            uint256 escrow;
            (jobIds[i], escrow) = _createJob(specs[i]);
            total += escrow;
        }
        // one permit and one transfer for the total: the jobs exist only if all of it is escrowed
        vault.fundWithPermit(msg.sender, total, permitDeadline, v, r, s);
    }

    /// @inheritdoc IJobRegistry
    function cancelJob(uint256 jobId, JobTerms calldata terms) external {
        (JobStatus status, uint256 commitment) = _load(jobId, terms);
        if (status != JobStatus.Created) revert InvalidStatus(jobId, status);
        if (msg.sender != terms.researcher) revert NotResearcher(jobId, msg.sender);
        _jobs[jobId] = JobCodec.packJob(JobStatus.Cancelled, commitment);
        uint256 refund = _refundAll(jobId, terms);
        emit JobCancelled(jobId, terms.researcher, terms.node, refund, block.timestamp);
    }

    /// @inheritdoc IJobRegistry
    function exitIdleJob(uint256 jobId, JobTerms calldata terms) external {
        (JobStatus status, uint256 commitment) = _load(jobId, terms);
        if (status != JobStatus.Accepted) revert InvalidStatus(jobId, status);
        if (msg.sender != terms.researcher) revert NotResearcher(jobId, msg.sender);
        if (terms.provenCount != 0) revert JobNotIdle(jobId);
        uint256 notBefore = uint256(terms.acceptedAt) + NO_BATCH_WINDOW;
        if (block.timestamp <= notBefore) revert TooEarly(jobId, notBefore);
        _jobs[jobId] = JobCodec.packJob(JobStatus.Exited, commitment);
        uint256 refund = _refundAll(jobId, terms);
        emit JobExited(jobId, terms.researcher, terms.node, refund, block.timestamp);
    }

    // ------------------------------------------------------------------ node

    /// @inheritdoc IJobRegistry
    function acceptJob(uint256 jobId, JobTerms calldata terms, bytes32 scanReportHash, bytes32 attestationHash)
        external
        whenNotPaused
        returns (JobTerms memory pinned)
    {
        (JobStatus status,) = _load(jobId, terms);
        if (status != JobStatus.Created) revert InvalidStatus(jobId, status);
        if (msg.sender != terms.node) revert NotJobNode(jobId, msg.sender);
        if (block.timestamp > terms.deadline) revert DeadlinePassed(jobId, terms.deadline);
        if (scanReportHash == bytes32(0)) revert ZeroScanReportHash();
        (address key, bytes32 quoteHash) = nodeRegistry.eligibleBinding(msg.sender);
        if (key == address(0)) revert NodeNotEligible(msg.sender);
        if (attestationHash == bytes32(0) || attestationHash != quoteHash) {
            revert AttestationNotApproved(msg.sender, attestationHash);
        }
        pinned = terms;
        pinned.enclaveKey = key;
        pinned.attestationHash = quoteHash;
        pinned.acceptedAt = uint40(block.timestamp);
        _jobs[jobId] = JobCodec.packJob(JobStatus.Accepted, JobCodec.hashTerms(pinned));
        emit JobAccepted(jobId, terms.researcher, msg.sender, key, quoteHash, scanReportHash, block.timestamp);
    }

    /// @inheritdoc IJobRegistry
    function rejectJob(uint256 jobId, JobTerms calldata terms, uint8 reasonCode) external {
        (JobStatus status, uint256 commitment) = _load(jobId, terms);
        if (status != JobStatus.Created && status != JobStatus.Accepted) revert InvalidStatus(jobId, status);
        if (msg.sender != terms.node) revert NotJobNode(jobId, msg.sender);
        if (reasonCode == 0 || reasonCode > MAX_REASON_CODE) revert InvalidReasonCode(reasonCode);
        _jobs[jobId] = JobCodec.packJob(JobStatus.Rejected, commitment);
        uint256 refund = _refundAll(jobId, terms);
        emit JobRejected(jobId, terms.researcher, msg.sender, reasonCode, refund, block.timestamp);
    }

    /// @inheritdoc IJobRegistry
    function submitBatch(uint256 jobId, JobTerms calldata terms, Batch calldata batch) external {
        (JobStatus status,) = _load(jobId, terms);
        _checkBatchWindow(jobId, terms, status);
        _jobs[jobId] = JobCodec.packJob(JobStatus.Accepted, JobCodec.hashTerms(_proveBatch(jobId, terms, batch)));
    }

    /// @inheritdoc IJobRegistry
    function submitBatchAndSettle(uint256 jobId, JobTerms calldata terms, Batch calldata batch, bytes32 receiptHash)
        external
        nonReentrant
        returns (uint256 nodeAmount)
    {
        (JobStatus status,) = _load(jobId, terms);
        _checkBatchWindow(jobId, terms, status);
        // before the proof: a settlement that must fail does not pay for a pairing check
        _checkReceiptAndNode(receiptHash);
        JobTerms memory next = _proveBatch(jobId, terms, batch);
        // the stored commitment stays the one of the terms rebuilt from the events (incl. this batch)
        _jobs[jobId] = JobCodec.packJob(JobStatus.Settled, JobCodec.hashTerms(next));
        return _settle(jobId, next, receiptHash, true);
    }

    /// @inheritdoc IJobRegistry
    function settleJob(uint256 jobId, JobTerms calldata terms, bytes32 receiptHash) external {
        _settleJob(jobId, terms, receiptHash, false);
    }

    /// @inheritdoc IJobRegistry
    function settleJobAndWithdraw(uint256 jobId, JobTerms calldata terms, bytes32 receiptHash)
        external
        nonReentrant
        returns (uint256 nodeAmount)
    {
        return _settleJob(jobId, terms, receiptHash, true);
    }

    // ------------------------------------------------------------------ anyone

    /// @inheritdoc IJobRegistry
    function expireJob(uint256 jobId, JobTerms calldata terms) external {
        (JobStatus status, uint256 commitment) = _load(jobId, terms);
        if (status != JobStatus.Created && status != JobStatus.Accepted) revert InvalidStatus(jobId, status);
        bool delivered = status == JobStatus.Accepted && terms.provenCount != 0;
        // A node that proved batches keeps the settlement grace to put its receipt on chain.
        uint256 notBefore = uint256(terms.deadline) + (delivered ? SETTLEMENT_GRACE : 0);
        if (block.timestamp <= notBefore) revert TooEarly(jobId, notBefore);
        _jobs[jobId] = JobCodec.packJob(JobStatus.Expired, commitment);
        uint256 paid =
            delivered && !nodeRegistry.isNodeFrozen(terms.node) ? _min(terms.provenCount, terms.maxRecords) : 0;
        (uint256 nodeAmount, uint256 fee, uint256 refund) = _release(jobId, terms, paid, false);
        emit JobExpired(jobId, terms.researcher, terms.node, paid, nodeAmount, fee, refund, msg.sender, block.timestamp);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IJobRegistry
    function getJob(uint256 jobId) external view returns (JobStatus status, bytes32 termsHash) {
        uint256 word = _jobs[jobId];
        return (JobStatus(word >> 248), bytes32(word & JobCodec.HASH_MASK));
    }

    /// @inheritdoc IJobRegistry
    function hashTerms(JobTerms calldata terms) external pure returns (bytes32) {
        return bytes32(JobCodec.hashTerms(terms));
    }

    /// @inheritdoc IJobRegistry
    function jobBinding(uint256 jobId, address node) external view returns (uint256) {
        return JobCodec.jobBinding(jobId, node);
    }

    /// @inheritdoc IJobRegistry
    function publicSignals(uint256 jobId, JobTerms calldata terms, uint256 chunkIndex, uint256 result, uint256 usage)
        external
        view
        returns (uint256[5] memory)
    {
        _load(jobId, terms);
        return JobCodec.publicSignals(
            result,
            usage,
            terms.datasetRoot,
            JobCodec.jobBinding(jobId, terms.node),
            chunkIndex,
            terms.nextMinId,
            terms.cohortParams
        );
    }

    /// @inheritdoc IJobRegistry
    function usageAttestationDigest(uint256 jobId, uint256 chunkIndex, uint256 usage) external view returns (bytes32) {
        return _hashTypedDataV4(JobCodec.hashUsage(jobId, chunkIndex, usage));
    }

    /// @inheritdoc IJobRegistry
    function hashSpec(JobSpec calldata spec) external pure returns (bytes32) {
        return JobCodec.hashSpec(spec);
    }

    // ------------------------------------------------------------------ internal

    function _createJob(JobSpec calldata spec) private returns (uint256 jobId, uint256 escrow) {
        if (spec.pricePerRecord == 0) revert ZeroPrice();
        if (spec.maxRecords == 0) revert ZeroMaxRecords();
        if (spec.modelDigest == bytes32(0)) revert ZeroModelDigest();
        if (spec.resultPublicKey == bytes32(0)) revert ZeroResultPublicKey();
        if (spec.deadline <= block.timestamp) revert DeadlineInPast(spec.deadline, block.timestamp);
        if (spec.deadline > block.timestamp + MAX_JOB_DURATION) {
            revert DeadlineTooFar(spec.deadline, block.timestamp + MAX_JOB_DURATION);
        }
        _checkCohortParams(spec.cohortParams);
        // uint96 × uint64 < 2^160: no overflow; the vault refuses amounts of 2^128 and more.
        escrow = uint256(spec.pricePerRecord) * spec.maxRecords;

        (address node, uint256 root, uint80 floor, bool datasetActive, bool nodeEligible) =
            nodeRegistry.datasetTerms(spec.datasetId);
        if (node == address(0)) revert UnknownDataset(spec.datasetId);
        if (!datasetActive) revert DatasetInactive(spec.datasetId);
        if (root != spec.datasetRoot) revert DatasetRootMismatch(spec.datasetId);
        if (!nodeEligible) revert NodeNotEligible(node);
        if (spec.pricePerRecord < floor) revert PriceBelowFloor(spec.pricePerRecord, floor);

        jobId = nextJobId++;
        uint16 feeBps = vault.feeBps();
        bytes32 specHash = JobCodec.hashSpec(spec);
        _jobs[jobId] = JobCodec.packJob(
            JobStatus.Created,
            JobCodec.hashTerms(
                JobTerms({
                    researcher: msg.sender,
                    node: node,
                    enclaveKey: address(0),
                    pricePerRecord: spec.pricePerRecord,
                    maxRecords: spec.maxRecords,
                    cohortParams: spec.cohortParams,
                    feeBps: feeBps,
                    deadline: spec.deadline,
                    acceptedAt: 0,
                    provenCount: 0,
                    nextMinId: 0,
                    datasetRoot: root,
                    specHash: specHash,
                    attestationHash: bytes32(0)
                })
            )
        );
        emit JobCreated(jobId, msg.sender, node, spec, specHash, feeBps, escrow, block.timestamp);
    }

    /// @dev The job's status and commitment, after checking `terms` against the commitment.
    function _load(uint256 jobId, JobTerms calldata terms) private view returns (JobStatus, uint256 commitment) {
        uint256 word = _jobs[jobId];
        if (word == 0) revert UnknownJob(jobId);
        commitment = word & JobCodec.HASH_MASK;
        if (JobCodec.hashTerms(terms) != commitment) revert TermsMismatch(jobId);
        return (JobStatus(word >> 248), commitment);
    }

    /// @dev settleJob / settleJobAndWithdraw: checks, writes the Settled status, then releases.
    function _settleJob(uint256 jobId, JobTerms calldata terms, bytes32 receiptHash, bool payNode)
        private
        returns (uint256 nodeAmount)
    {
        (JobStatus status, uint256 commitment) = _load(jobId, terms);
        if (status != JobStatus.Accepted) revert InvalidStatus(jobId, status);
        if (msg.sender != terms.node) revert NotJobNode(jobId, msg.sender);
        if (receiptHash == bytes32(0)) revert ZeroReceiptHash();
        uint256 closesAt = uint256(terms.deadline) + SETTLEMENT_GRACE;
        if (block.timestamp > closesAt) revert SettlementWindowClosed(jobId, closesAt);
        if (nodeRegistry.isNodeFrozen(msg.sender)) revert NodeFrozen(msg.sender);
        _jobs[jobId] = JobCodec.packJob(JobStatus.Settled, commitment);
        return _settle(jobId, terms, receiptHash, payNode);
    }

    /// @dev Releases a settled job's escrow (the status is already written): the node's share is
    /// credited, or with `payNode` sent to the node (= msg.sender, checked by every caller).
    function _settle(uint256 jobId, JobTerms memory terms, bytes32 receiptHash, bool payNode)
        private
        returns (uint256)
    {
        uint256 paid = _min(terms.provenCount, terms.maxRecords);
        (uint256 amount, uint256 fee, uint256 refund) = _release(jobId, terms, paid, payNode);
        emit JobSettled(
            jobId, terms.researcher, terms.node, terms.provenCount, paid, amount, fee, refund, receiptHash, block.timestamp
        );
        return amount;
    }

    /// @dev Closes the job's escrow in the vault: pays `paidRecords`; the node's share is credited, or
    /// with `payNode` sent to the node.
    function _release(uint256 jobId, JobTerms memory t, uint256 paidRecords, bool payNode)
        private
        returns (uint256, uint256, uint256)
    {
        uint256 escrow = uint256(t.pricePerRecord) * t.maxRecords;
        uint256 payout = paidRecords * t.pricePerRecord;
        return payNode
            ? vault.releaseAndPay(jobId, t.researcher, t.node, escrow, payout, t.feeBps)
            : vault.release(jobId, t.researcher, t.node, escrow, payout, t.feeBps);
    }

    /// @dev A batch is taken from the job's node while the job is Accepted and before its deadline.
    function _checkBatchWindow(uint256 jobId, JobTerms calldata terms, JobStatus status) private view {
        if (status != JobStatus.Accepted) revert InvalidStatus(jobId, status);
        if (msg.sender != terms.node) revert NotJobNode(jobId, msg.sender);
        if (block.timestamp > terms.deadline) revert DeadlinePassed(jobId, terms.deadline);
    }

    /// @dev The settling checks a batch window does not already cover.
    function _checkReceiptAndNode(bytes32 receiptHash) private view {
        if (receiptHash == bytes32(0)) revert ZeroReceiptHash();
        if (nodeRegistry.isNodeFrozen(msg.sender)) revert NodeFrozen(msg.sender);
    }

    /// @dev Verifies one batch (usage signature, Groth16 proof) and returns the terms after it.
    function _proveBatch(uint256 jobId, JobTerms calldata terms, Batch calldata batch)
        private
        returns (JobTerms memory next)
    {
        if (batch.chunkIndex > JobCodec.MASK32) revert InvalidChunkIndex(batch.chunkIndex);
        uint256 minId = terms.nextMinId;
        uint256 count = batch.result & JobCodec.MASK32;
        uint256 lastId = batch.result >> 32;
        if (count == 0 || lastId < minId || lastId > JobCodec.MASK32) revert InvalidBatchResult(batch.result);
        _checkUsageAttestation(jobId, terms.enclaveKey, batch);
        _verifyBatch(jobId, terms, minId, batch);

        // count <= 2^32 and ids strictly increase below 2^32, so both fit in 40 bits.
        next = terms;
        next.provenCount += uint40(count);
        next.nextMinId = uint40(lastId + 1);
        emit BatchProven(
            jobId, terms.researcher, msg.sender, batch.chunkIndex, count, lastId, batch.usage, next.provenCount, block.timestamp
        );
    }

    function _refundAll(uint256 jobId, JobTerms calldata t) private returns (uint256 refund) {
        (,, refund) = _release(jobId, t, 0, false);
    }

    function _checkUsageAttestation(uint256 jobId, address enclaveKey, Batch calldata batch) private view {
        bytes32 digest = _hashTypedDataV4(JobCodec.hashUsage(jobId, batch.chunkIndex, batch.usage));
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, batch.enclaveSignature);
        if (err != ECDSA.RecoverError.NoError || recovered != enclaveKey) {
            revert InvalidUsageSignature(jobId, batch.chunkIndex);
        }
    }

    function _verifyBatch(uint256 jobId, JobTerms calldata terms, uint256 minId, Batch calldata batch) private view {
        uint256[5] memory signals = JobCodec.publicSignals(
            batch.result,
            batch.usage,
            terms.datasetRoot,
            JobCodec.jobBinding(jobId, terms.node),
            batch.chunkIndex,
            minId,
            terms.cohortParams
        );
        if (!verifier.verifyProof(batch.pA, batch.pB, batch.pC, signals)) revert InvalidProof(jobId, batch.chunkIndex);
    }

    function _checkCohortParams(uint64 p) private pure {
        uint64 ageMin = p & 0x7f;
        uint64 ageMax = (p >> 7) & 0x7f;
        uint64 sexMask = (p >> 14) & 0x7;
        if (p & COHORT_RESERVED_MASK != 0 || ageMin > ageMax || sexMask == 0) revert InvalidCohortParams(p);
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
