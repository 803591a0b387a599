// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title NodeRegistry
/// @notice Hospital edge nodes (keyed by their operator address) and the datasets they serve.
/// A node names the enclave key that signs usage attestations and the attestation type and
/// measurement of its enclave; the (type, measurement) pair must be allowlisted by governance.
/// Datasets carry the Poseidon Merkle root of their record commitments (a BN254 field element),
/// which JobRegistry snapshots into every job at creation.
contract NodeRegistry is AccessControl {
    /// @notice Role allowed to allowlist/revoke measurements and to deactivate/reactivate nodes.
    bytes32 public constant ATTESTATION_GOVERNOR_ROLE = keccak256("ATTESTATION_GOVERNOR_ROLE");

    /// @notice BN254 scalar field modulus; dataset roots must be below it.
    uint256 public constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416459031163510440016186949353;

    /// @notice Kind of trusted execution environment evidence a node provides.
    /// SIMULATED is a clearly flagged software attestation for development; governance should
    /// never allowlist a SIMULATED measurement on a production network.
    enum AttestationType {
        SIMULATED,
        SGX_DCAP,
        TDX,
        TPM
    }

    /// @notice A registered node.
    struct Node {
        address enclaveSigner; // key that signs EIP-712 UsageAttestation messages
        AttestationType attestationType;
        bool registered;
        bool active; // cleared by governance (deactivateNode)
        bytes32 measurement; // enclave measurement (MRENCLAVE / MRTD / PCR digest)
        string metadataURI; // operator-supplied public metadata (institution, endpoint, contact)
    }

    /// @notice A registered dataset.
    struct Dataset {
        address node; // operator of the owning node
        uint64 recordCount;
        bool active;
        uint128 priceFloor; // minimum USDC (6 decimals) per record a job must offer
        uint256 root; // Poseidon Merkle root of record commitments, < SNARK_SCALAR_FIELD
        bytes32 schemaHash;
        string profileURI; // public profile: modality, coding systems, size band
    }

    mapping(address operator => Node) private _nodes;
    mapping(uint256 datasetId => Dataset) private _datasets;
    mapping(AttestationType => mapping(bytes32 measurement => bool)) private _allowedMeasurements;

    /// @notice Id the next registered dataset receives (ids start at 1).
    uint256 public nextDatasetId = 1;

    /// @notice The caller already registered a node.
    error NodeAlreadyRegistered(address operator);
    /// @notice The operator has no registered node.
    error NodeNotRegistered(address operator);
    /// @notice The (attestation type, measurement) pair is not allowlisted.
    error MeasurementNotAllowed(AttestationType attestationType, bytes32 measurement);
    /// @notice The enclave signer is the zero address.
    error ZeroEnclaveSigner();
    /// @notice The node is deactivated.
    error NodeInactive(address operator);
    /// @notice The node is already in the requested activation state.
    error NodeActivationUnchanged(address operator, bool active);
    /// @notice No dataset has this id.
    error UnknownDataset(uint256 datasetId);
    /// @notice The caller does not own the dataset.
    error NotDatasetOwner(uint256 datasetId, address caller);
    /// @notice The dataset root is zero or not below the BN254 scalar field.
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
    /// @notice A node registered or updated its enclave and metadata.
    /// @param operator Node operator address (the node's identity).
    /// @param enclaveSigner Key that signs usage attestations.
    /// @param attestationType Attestation type.
    /// @param measurement Enclave measurement.
    /// @param metadataURI Public metadata URI.
    /// @param isNew True on first registration.
    /// @param timestamp Block time.
    event NodeRegistered(
        address indexed operator,
        address indexed enclaveSigner,
        AttestationType attestationType,
        bytes32 measurement,
        string metadataURI,
        bool isNew,
        uint256 timestamp
    );
    /// @notice Governance activated or deactivated a node.
    /// @param operator Node operator.
    /// @param active New state.
    /// @param by Governance account.
    /// @param timestamp Block time.
    event NodeActiveSet(address indexed operator, bool active, address indexed by, uint256 timestamp);
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
        uint128 priceFloor,
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

    /// @param admin Receives DEFAULT_ADMIN_ROLE (a timelock or multisig in production).
    /// @param governor Receives ATTESTATION_GOVERNOR_ROLE.
    constructor(address admin, address governor) {
        if (admin == address(0) || governor == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ATTESTATION_GOVERNOR_ROLE, governor);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Allowlists or revokes an enclave measurement for an attestation type.
    /// Revoking makes every node with that measurement ineligible to accept or prove jobs at once.
    /// @param attestationType Attestation type.
    /// @param measurement Enclave measurement.
    /// @param allowed True to allowlist, false to revoke.
    function setMeasurementAllowed(AttestationType attestationType, bytes32 measurement, bool allowed)
        external
        onlyRole(ATTESTATION_GOVERNOR_ROLE)
    {
        _allowedMeasurements[attestationType][measurement] = allowed;
        emit MeasurementSet(attestationType, measurement, allowed, block.timestamp);
    }

    /// @notice Activates or deactivates a node (governance). A deactivated node can neither receive,
    /// accept nor prove jobs; refunds and expiry of its jobs keep working.
    /// @param operator Node operator.
    /// @param active New state.
    function setNodeActive(address operator, bool active) external onlyRole(ATTESTATION_GOVERNOR_ROLE) {
        Node storage n = _nodes[operator];
        if (!n.registered) revert NodeNotRegistered(operator);
        if (n.active == active) revert NodeActivationUnchanged(operator, active);
        n.active = active;
        emit NodeActiveSet(operator, active, msg.sender, block.timestamp);
    }

    // ------------------------------------------------------------------ operators

    /// @notice Registers the caller as a node operator. The node starts active.
    /// @param enclaveSigner Key that signs usage attestations inside the enclave.
    /// @param attestationType Attestation type.
    /// @param measurement Enclave measurement; must be allowlisted for `attestationType`.
    /// @param metadataURI Public metadata URI.
    function registerNode(
        address enclaveSigner,
        AttestationType attestationType,
        bytes32 measurement,
        string calldata metadataURI
    ) external {
        Node storage n = _nodes[msg.sender];
        if (n.registered) revert NodeAlreadyRegistered(msg.sender);
        _checkEnclave(enclaveSigner, attestationType, measurement);
        n.registered = true;
        n.active = true;
        _writeNode(n, enclaveSigner, attestationType, measurement, metadataURI, true);
    }

    /// @notice Updates the caller's enclave key, attestation and metadata (e.g. after a key
    /// rotation or an enclave upgrade). Does not change the active flag.
    /// @param enclaveSigner New enclave signing key.
    /// @param attestationType Attestation type.
    /// @param measurement Enclave measurement; must be allowlisted for `attestationType`.
    /// @param metadataURI Public metadata URI.
    function updateNode(
        address enclaveSigner,
        AttestationType attestationType,
        bytes32 measurement,
        string calldata metadataURI
    ) external {
        Node storage n = _nodes[msg.sender];
        if (!n.registered) revert NodeNotRegistered(msg.sender);
        _checkEnclave(enclaveSigner, attestationType, measurement);
        _writeNode(n, enclaveSigner, attestationType, measurement, metadataURI, false);
    }

    /// @notice Registers a dataset owned by the caller's node. The node must be active.
    /// @param root Poseidon Merkle root of the record commitments (non-zero, < BN254 p).
    /// @param recordCount Number of records committed (non-zero).
    /// @param schemaHash Hash of the record schema.
    /// @param priceFloor Minimum price per record (USDC units) a job must offer.
    /// @param profileURI Public profile URI for the catalogue.
    /// @return datasetId The new dataset's id.
    function registerDataset(
        uint256 root,
        uint64 recordCount,
        bytes32 schemaHash,
        uint128 priceFloor,
        string calldata profileURI
    ) external returns (uint256 datasetId) {
        _requireActiveNode(msg.sender);
        datasetId = nextDatasetId++;
        Dataset storage d = _datasets[datasetId];
        d.node = msg.sender;
        d.active = true;
        _writeDataset(datasetId, d, root, recordCount, schemaHash, priceFloor, profileURI, true);
    }

    /// @notice Updates a dataset of the caller. Jobs already created keep the root they snapshotted.
    /// @param datasetId Dataset id.
    /// @param root New Poseidon Merkle root (non-zero, < BN254 p).
    /// @param recordCount New record count (non-zero).
    /// @param schemaHash New schema hash.
    /// @param priceFloor New price floor.
    /// @param profileURI New profile URI.
    function updateDataset(
        uint256 datasetId,
        uint256 root,
        uint64 recordCount,
        bytes32 schemaHash,
        uint128 priceFloor,
        string calldata profileURI
    ) external {
        Dataset storage d = _ownedDataset(datasetId);
        _requireActiveNode(msg.sender);
        _writeDataset(datasetId, d, root, recordCount, schemaHash, priceFloor, profileURI, false);
    }

    /// @notice Lists or delists one of the caller's datasets. Delisted datasets accept no new jobs.
    /// @param datasetId Dataset id.
    /// @param active New state.
    function setDatasetActive(uint256 datasetId, bool active) external {
        Dataset storage d = _ownedDataset(datasetId);
        d.active = active;
        emit DatasetActiveSet(datasetId, msg.sender, active, block.timestamp);
    }

    // ------------------------------------------------------------------ views

    /// @notice Returns a node.
    /// @param operator Node operator.
    /// @return The node record (all zero when unregistered).
    function getNode(address operator) external view returns (Node memory) {
        return _nodes[operator];
    }

    /// @notice Returns a dataset.
    /// @param datasetId Dataset id.
    /// @return The dataset record (node == address(0) when unknown).
    function getDataset(uint256 datasetId) external view returns (Dataset memory) {
        return _datasets[datasetId];
    }

    /// @notice Whether a measurement is allowlisted for an attestation type.
    /// @param attestationType Attestation type.
    /// @param measurement Measurement.
    /// @return True when allowlisted.
    function isMeasurementAllowed(AttestationType attestationType, bytes32 measurement) external view returns (bool) {
        return _allowedMeasurements[attestationType][measurement];
    }

    /// @notice Whether a node may accept and prove jobs now: registered, active, measurement allowlisted.
    /// @param operator Node operator.
    /// @return True when eligible.
    function isNodeEligible(address operator) public view returns (bool) {
        Node storage n = _nodes[operator];
        return n.active && _allowedMeasurements[n.attestationType][n.measurement];
    }

    /// @notice The enclave signer of an eligible node, or address(0) if the node is not eligible.
    /// @param operator Node operator.
    /// @return The enclave signing key, or zero.
    function eligibleSigner(address operator) external view returns (address) {
        Node storage n = _nodes[operator];
        if (!n.active || !_allowedMeasurements[n.attestationType][n.measurement]) return address(0);
        return n.enclaveSigner;
    }

    /// @notice What JobRegistry needs at job creation, in one call.
    /// @param datasetId Dataset id.
    /// @return node Owning node operator (zero if unknown).
    /// @return root Dataset root.
    /// @return priceFloor Price floor.
    /// @return datasetActive Whether the dataset is listed.
    /// @return nodeEligible Whether the owning node is eligible.
    function datasetTerms(uint256 datasetId)
        external
        view
        returns (address node, uint256 root, uint128 priceFloor, bool datasetActive, bool nodeEligible)
    {
        Dataset storage d = _datasets[datasetId];
        node = d.node;
        return (node, d.root, d.priceFloor, d.active, isNodeEligible(node));
    }

    // ------------------------------------------------------------------ internal

    function _checkEnclave(address signer, AttestationType t, bytes32 measurement) private view {
        if (signer == address(0)) revert ZeroEnclaveSigner();
        if (!_allowedMeasurements[t][measurement]) revert MeasurementNotAllowed(t, measurement);
    }

    function _writeNode(
        Node storage n,
        address signer,
        AttestationType t,
        bytes32 measurement,
        string calldata uri,
        bool isNew
    ) private {
        n.enclaveSigner = signer;
        n.attestationType = t;
        n.measurement = measurement;
        n.metadataURI = uri;
        emit NodeRegistered(msg.sender, signer, t, measurement, uri, isNew, block.timestamp);
    }

    function _requireActiveNode(address operator) private view {
        Node storage n = _nodes[operator];
        if (!n.registered) revert NodeNotRegistered(operator);
        if (!n.active) revert NodeInactive(operator);
    }

    function _ownedDataset(uint256 datasetId) private view returns (Dataset storage d) {
        d = _datasets[datasetId];
        if (d.node == address(0)) revert UnknownDataset(datasetId);
        if (d.node != msg.sender) revert NotDatasetOwner(datasetId, msg.sender);
    }

    function _writeDataset(
        uint256 datasetId,
        Dataset storage d,
        uint256 root,
        uint64 recordCount,
        bytes32 schemaHash,
        uint128 priceFloor,
        string calldata profileURI,
        bool isNew
    ) private {
        if (root == 0 || root >= SNARK_SCALAR_FIELD) revert InvalidDatasetRoot(root);
        if (recordCount == 0) revert ZeroRecordCount();
        d.root = root;
        d.recordCount = recordCount;
        d.schemaHash = schemaHash;
        d.priceFloor = priceFloor;
        d.profileURI = profileURI;
        emit DatasetRegistered(
            datasetId, msg.sender, root, recordCount, schemaHash, priceFloor, profileURI, isNew, block.timestamp
        );
    }
}
