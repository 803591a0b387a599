// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title INodeRegistry
/// @notice Hospital edge nodes (keyed by their operator address), the enclave key each one uses,
/// the attestation binding that key to an allowlisted measurement, and the datasets they serve.
///
/// Binding approval flow (DCAP verification is too expensive on chain, so it happens off chain and
/// governance records the outcome):
///   1. The node's enclave produces a quote whose report data commits to the enclave key
///      (docs/PROTOCOL.md, "Enclave key binding"), publishes it at `quoteURI` and calls
///      `registerNode`/`updateNode` with `quoteHash = keccak256(raw quote bytes)`. The binding is
///      *pending*: the node cannot receive or accept jobs.
///   2. The ATTESTATION_GOVERNOR_ROLE holder fetches the quote, checks its hash, verifies it with a
///      real DCAP verifier (signature chain, collateral, TCB status), checks that its measurement
///      is the declared one and that its report data commits to the declared key, then calls
///      `approveBinding` with the exact (operator, key, quote hash, measurement) it verified. Any
///      difference from the pending binding reverts (BindingMismatch), so a quote for another key
///      can never approve this key.
///   3. The node is eligible while registered, active, not frozen, its binding approved and its
///      measurement still allowlisted. JobRegistry pins the approved key and quote hash into every
///      job at acceptance; later rotations do not affect accepted jobs.
///
/// SIMULATED attestation is refused unless the registry was deployed with `simulatedAllowed`, which
/// the constructor accepts only on local development chains (31337, 1337).
interface INodeRegistry {
    /// @notice Kind of trusted execution environment evidence a node provides.
    enum AttestationType {
        SIMULATED,
        SGX_DCAP,
        TDX,
        TPM
    }

    /// @notice A registered node (one storage slot plus two hashes).
    struct Node {
        address enclaveKey; // key that signs EIP-712 UsageAttestation messages inside the enclave
        AttestationType attestationType;
        bool registered;
        bool active; // governance: a deactivated node receives and accepts no new jobs
        bool frozen; // governance: a frozen node is paid nothing (see setNodeFrozen)
        bool bindingApproved; // governance approved (enclaveKey, quoteHash, measurement)
        bytes32 measurement; // MRENCLAVE / MRTD / PCR digest
        bytes32 quoteHash; // keccak256 of the raw attestation quote published at quoteURI
    }

    /// @notice A registered dataset.
    struct Dataset {
        address node; // operator of the owning node
        bool active;
        uint80 priceFloor; // minimum USDC (6 decimals) per record a job must offer (same slot as node)
        uint64 recordCount;
        uint256 root; // Poseidon Merkle root of record commitments, 0 < root < SNARK_SCALAR_FIELD
        bytes32 schemaHash;
    }

    /// @notice The caller already registered a node.
    error NodeAlreadyRegistered(address operator);
    /// @notice The operator has no registered node.
    error NodeNotRegistered(address operator);
    /// @notice The (attestation type, measurement) pair is not allowlisted.
    error MeasurementNotAllowed(AttestationType attestationType, bytes32 measurement);
    /// @notice SIMULATED attestation is disabled on this deployment (every non-development chain).
    error SimulatedAttestationDisabled();
    /// @notice The constructor was asked to allow SIMULATED attestation on a non-development chain.
    error SimulatedNotAllowedOnChain(uint256 chainId);
    /// @notice The enclave key is the zero address.
    error ZeroEnclaveKey();
    /// @notice The quote hash is zero (a binding needs published evidence).
    error ZeroQuoteHash();
    /// @notice approveBinding's (key, quote hash, measurement) differs from the node's pending binding.
    error BindingMismatch(address operator);
    /// @notice The node's binding is already approved.
    error BindingAlreadyApproved(address operator);
    /// @notice The node is deactivated.
    error NodeInactive(address operator);
    /// @notice The node is already in the requested activation state.
    error NodeActivationUnchanged(address operator, bool active);
    /// @notice The node is already in the requested freeze state.
    error NodeFreezeUnchanged(address operator, bool frozen);
    /// @notice No dataset has this id.
    error UnknownDataset(uint256 datasetId);
    /// @notice The caller does not own the dataset.
    error NotDatasetOwner(uint256 datasetId, address caller);
    /// @notice The dataset root is zero or not below the BN254 scalar field r.
    error InvalidDatasetRoot(uint256 root);
    /// @notice A dataset needs at least one record.
    error ZeroRecordCount();
    /// @notice A zero address was given.
    error ZeroAddress();

    /// @notice Governance allowlisted or revoked an enclave measurement.
    /// @param attestationType The attestation type the measurement belongs to.
    /// @param measurement The measurement.
    /// @param allowed True when allowlisted, false when revoked.
    /// @param timestamp Block time of the change.
    event MeasurementSet(
        AttestationType indexed attestationType, bytes32 indexed measurement, bool allowed, uint256 timestamp
    );
    /// @notice A node registered or changed its enclave key / evidence; the binding is pending
    /// until governance approves it.
    /// @param operator Node operator address (the node's identity).
    /// @param enclaveKey Key that will sign usage attestations.
    /// @param attestationType Attestation type.
    /// @param measurement Enclave measurement the quote must carry.
    /// @param quoteHash keccak256 of the raw quote.
    /// @param quoteURI Where the quote (and its collateral) is published.
    /// @param metadataURI Public metadata URI (institution, endpoint, contact).
    /// @param isNew True on first registration.
    /// @param timestamp Block time.
    event NodeRegistered(
        address indexed operator,
        address indexed enclaveKey,
        AttestationType attestationType,
        bytes32 measurement,
        bytes32 indexed quoteHash,
        string quoteURI,
        string metadataURI,
        bool isNew,
        uint256 timestamp
    );
    /// @notice Governance approved a node's pending binding after verifying the quote off chain.
    /// @param operator Node operator.
    /// @param enclaveKey Approved enclave key.
    /// @param quoteHash Approved quote hash.
    /// @param measurement Approved measurement.
    /// @param by Governance account.
    /// @param timestamp Block time.
    event BindingApproved(
        address indexed operator,
        address indexed enclaveKey,
        bytes32 indexed quoteHash,
        bytes32 measurement,
        address by,
        uint256 timestamp
    );
    /// @notice Governance activated or deactivated a node.
    /// @param operator Node operator.
    /// @param active New state.
    /// @param by Governance account.
    /// @param timestamp Block time.
    event NodeActiveSet(address indexed operator, bool active, address indexed by, uint256 timestamp);
    /// @notice Governance froze or unfroze a node.
    /// @param operator Node operator.
    /// @param frozen New state.
    /// @param reasonHash keccak256 of the published reason (incident report), may be zero on unfreeze.
    /// @param by Governance account.
    /// @param timestamp Block time.
    event NodeFrozenSet(
        address indexed operator, bool frozen, bytes32 reasonHash, address indexed by, uint256 timestamp
    );
    /// @notice A dataset was registered or updated.
    /// @param datasetId Dataset id.
    /// @param node Owning node operator.
    /// @param root Poseidon Merkle root.
    /// @param recordCount Number of records committed.
    /// @param schemaHash Schema hash.
    /// @param priceFloor Minimum price per record (USDC units).
    /// @param profileURI Public profile URI.
    /// @param isNew True on first registration.
    /// @param timestamp Block time.
    event DatasetRegistered(
        uint256 indexed datasetId,
        address indexed node,
        uint256 root,
        uint64 recordCount,
        bytes32 schemaHash,
        uint80 priceFloor,
        string profileURI,
        bool isNew,
        uint256 timestamp
    );
    /// @notice The owning node listed or delisted a dataset.
    /// @param datasetId Dataset id.
    /// @param node Owning node operator.
    /// @param active New state.
    /// @param timestamp Block time.
    event DatasetActiveSet(uint256 indexed datasetId, address indexed node, bool active, uint256 timestamp);

    /// @notice Whether SIMULATED attestation is accepted (fixed at deployment; local chains only).
    /// @return True on development deployments.
    function simulatedAllowed() external view returns (bool);

    /// @notice Allowlists or revokes an enclave measurement for an attestation type. Revoking makes
    /// every node with that measurement ineligible to receive or accept jobs at once (jobs already
    /// accepted keep their pinned key; freeze the node to stop their payment).
    /// @param attestationType Attestation type (SIMULATED only where simulatedAllowed).
    /// @param measurement Enclave measurement.
    /// @param allowed True to allowlist, false to revoke.
    function setMeasurementAllowed(AttestationType attestationType, bytes32 measurement, bool allowed) external;

    /// @notice Approves a node's pending binding after verifying its quote off chain. Every argument
    /// must equal the pending binding.
    /// @param operator Node operator.
    /// @param enclaveKey The key the verified quote's report data commits to.
    /// @param quoteHash keccak256 of the verified raw quote.
    /// @param measurement The measurement the verified quote carries.
    function approveBinding(address operator, address enclaveKey, bytes32 quoteHash, bytes32 measurement) external;

    /// @notice Activates or deactivates a node. A deactivated node can neither receive nor accept
    /// jobs; its accepted jobs can still be proven and settled.
    /// @param operator Node operator.
    /// @param active New state.
    function setNodeActive(address operator, bool active) external;

    /// @notice Freezes or unfreezes a node. While frozen the node is ineligible, and its unsettled
    /// jobs pay it nothing: settleJob reverts and a job that expires while the node is frozen
    /// refunds the researcher in full. Unfreezing before the job's settlement window closes
    /// restores payment for everything proven. Trade-off for an honest node frozen by mistake: it
    /// loses the payment of every job whose window closes during the freeze, so governance must
    /// decide within the settlement grace.
    /// @param operator Node operator.
    /// @param frozen New state.
    /// @param reasonHash keccak256 of the published reason.
    function setNodeFrozen(address operator, bool frozen, bytes32 reasonHash) external;

    /// @notice Registers the caller as a node operator with a pending enclave binding. The node
    /// starts active but ineligible until governance approves the binding.
    /// @param enclaveKey Key that signs usage attestations inside the enclave.
    /// @param attestationType Attestation type.
    /// @param measurement Enclave measurement; must be allowlisted for `attestationType`.
    /// @param quoteHash keccak256 of the raw quote committing to `enclaveKey` (non-zero).
    /// @param quoteURI Where the quote is published.
    /// @param metadataURI Public metadata URI.
    function registerNode(
        address enclaveKey,
        AttestationType attestationType,
        bytes32 measurement,
        bytes32 quoteHash,
        string calldata quoteURI,
        string calldata metadataURI
    ) external;

    /// @notice Replaces the caller's enclave key and evidence (key rotation, enclave upgrade). The
    /// new binding is pending: the node is ineligible until governance approves it. Jobs accepted
    /// before keep the key pinned at acceptance.
    /// @param enclaveKey New enclave key.
    /// @param attestationType Attestation type.
    /// @param measurement Enclave measurement; must be allowlisted for `attestationType`.
    /// @param quoteHash keccak256 of the raw quote committing to `enclaveKey` (non-zero).
    /// @param quoteURI Where the quote is published.
    /// @param metadataURI Public metadata URI.
    function updateNode(
        address enclaveKey,
        AttestationType attestationType,
        bytes32 measurement,
        bytes32 quoteHash,
        string calldata quoteURI,
        string calldata metadataURI
    ) external;

    /// @notice Registers a dataset owned by the caller's node. The node must be active.
    /// @param root Poseidon Merkle root of the record commitments (0 < root < r).
    /// @param recordCount Number of records committed (non-zero).
    /// @param schemaHash Hash of the record schema.
    /// @param priceFloor Minimum price per record (USDC units) a job must offer.
    /// @param profileURI Public profile URI for the catalogue.
    /// @return datasetId The new dataset's id.
    function registerDataset(
        uint256 root,
        uint64 recordCount,
        bytes32 schemaHash,
        uint80 priceFloor,
        string calldata profileURI
    ) external returns (uint256 datasetId);

    /// @notice Updates a dataset of the caller. Jobs pin the root the researcher saw: a job created
    /// with the old root keeps it; createJob with the old root reverts from now on.
    /// @param datasetId Dataset id.
    /// @param root New Poseidon Merkle root (0 < root < r).
    /// @param recordCount New record count (non-zero).
    /// @param schemaHash New schema hash.
    /// @param priceFloor New price floor.
    /// @param profileURI New profile URI.
    function updateDataset(
        uint256 datasetId,
        uint256 root,
        uint64 recordCount,
        bytes32 schemaHash,
        uint80 priceFloor,
        string calldata profileURI
    ) external;

    /// @notice Lists or delists one of the caller's datasets. Delisted datasets accept no new jobs.
    /// @param datasetId Dataset id.
    /// @param active New state.
    function setDatasetActive(uint256 datasetId, bool active) external;

    /// @notice Returns a node.
    /// @param operator Node operator.
    /// @return The node record (all zero when unregistered).
    function getNode(address operator) external view returns (Node memory);

    /// @notice Returns a dataset.
    /// @param datasetId Dataset id.
    /// @return The dataset record (node == address(0) when unknown).
    function getDataset(uint256 datasetId) external view returns (Dataset memory);

    /// @notice Whether a measurement is allowlisted for an attestation type.
    /// @param attestationType Attestation type.
    /// @param measurement Measurement.
    /// @return True when allowlisted.
    function isMeasurementAllowed(AttestationType attestationType, bytes32 measurement) external view returns (bool);

    /// @notice Whether a node may receive and accept jobs now: registered, active, not frozen,
    /// binding approved, measurement allowlisted.
    /// @param operator Node operator.
    /// @return True when eligible.
    function isNodeEligible(address operator) external view returns (bool);

    /// @notice Whether governance froze a node (its unsettled jobs are not paid while frozen).
    /// @param operator Node operator.
    /// @return True when frozen.
    function isNodeFrozen(address operator) external view returns (bool);

    /// @notice The approved binding of an eligible node, for JobRegistry.acceptJob.
    /// @param operator Node operator.
    /// @return enclaveKey The approved key, or zero when the node is not eligible.
    /// @return quoteHash The approved quote hash, or zero when the node is not eligible.
    function eligibleBinding(address operator) external view returns (address enclaveKey, bytes32 quoteHash);

    /// @notice What report_data[0:32] of a node's quote must equal for `enclaveKey`:
    /// keccak256(abi.encode(keccak256("rapha.enclave-key.v1"), chainid, this registry, operator, enclaveKey)).
    /// Governance checks it off chain before approveBinding; auditors recompute it here.
    /// @param operator Node operator.
    /// @param enclaveKey Enclave key.
    /// @return The expected report data.
    function bindingReportData(address operator, address enclaveKey) external view returns (bytes32);

    /// @notice What JobRegistry needs at job creation, in one call.
    /// @param datasetId Dataset id.
    /// @return node Owning node operator (zero if unknown).
    /// @return root Dataset root.
    /// @return priceFloor Price floor.
    /// @return datasetActive Whether the dataset is listed.
    /// @return nodeEligible Whether the owning node is active, not frozen and its binding approved
    /// (the measurement allowlist is checked at acceptance).
    function datasetTerms(uint256 datasetId)
        external
        view
        returns (address node, uint256 root, uint80 priceFloor, bool datasetActive, bool nodeEligible);
}
