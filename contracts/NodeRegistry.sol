// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {INodeRegistry} from "./interfaces/INodeRegistry.sol";
import {JobCodec} from "./libraries/JobCodec.sol";

/// @title NodeRegistry
/// @notice Nodes, their attestation-bound enclave keys, and their datasets (see INodeRegistry for
/// the binding approval flow).
contract NodeRegistry is INodeRegistry, AccessControl {
    /// @notice Role allowed to allowlist/revoke measurements, approve bindings, and (de)activate or
    /// (un)freeze nodes.
    bytes32 public constant ATTESTATION_GOVERNOR_ROLE = keccak256("ATTESTATION_GOVERNOR_ROLE");

    /// @notice BN254 scalar field order r; dataset roots must be below it.
    uint256 public constant SNARK_SCALAR_FIELD = JobCodec.SNARK_SCALAR_FIELD;

    /// @notice Domain tag of the enclave-key report data: keccak256("rapha.enclave-key.v1").
    bytes32 public constant ENCLAVE_KEY_BINDING_TAG = keccak256("rapha.enclave-key.v1");

    /// @inheritdoc INodeRegistry
    bool public immutable simulatedAllowed;

    mapping(address operator => Node) private _nodes;
    mapping(uint256 datasetId => Dataset) private _datasets;
    mapping(AttestationType => mapping(bytes32 measurement => bool)) private _allowedMeasurements;

    /// @notice Id the next registered dataset receives (ids start at 1).
    uint256 public nextDatasetId = 1;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (a timelock or multisig in production).
    /// @param governor Receives ATTESTATION_GOVERNOR_ROLE.
    /// @param allowSimulated Accept SIMULATED attestation; only possible on chain 31337 or 1337.
    constructor(address admin, address governor, bool allowSimulated) {
        if (admin == address(0) || governor == address(0)) revert ZeroAddress();
        if (allowSimulated && block.chainid != 31337 && block.chainid != 1337) {
            revert SimulatedNotAllowedOnChain(block.chainid);
        }
        simulatedAllowed = allowSimulated;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ATTESTATION_GOVERNOR_ROLE, governor);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc INodeRegistry
    function setMeasurementAllowed(AttestationType attestationType, bytes32 measurement, bool allowed)
        external
        onlyRole(ATTESTATION_GOVERNOR_ROLE)
    {
        _checkType(attestationType);
        _allowedMeasurements[attestationType][measurement] = allowed;
        emit MeasurementSet(attestationType, measurement, allowed, block.timestamp);
    }

    /// @inheritdoc INodeRegistry
    function approveBinding(address operator, address enclaveKey, bytes32 quoteHash, bytes32 measurement)
        external
        onlyRole(ATTESTATION_GOVERNOR_ROLE)
    {
        Node storage n = _nodes[operator];
        if (!n.registered) revert NodeNotRegistered(operator);
        if (n.bindingApproved) revert BindingAlreadyApproved(operator);
        if (n.enclaveKey != enclaveKey || n.quoteHash != quoteHash || n.measurement != measurement) {
            revert BindingMismatch(operator);
        }
        n.bindingApproved = true;
        emit BindingApproved(operator, enclaveKey, quoteHash, measurement, msg.sender, block.timestamp);
    }

    /// @inheritdoc INodeRegistry
    function setNodeActive(address operator, bool active) external onlyRole(ATTESTATION_GOVERNOR_ROLE) {
        Node storage n = _nodes[operator];
        if (!n.registered) revert NodeNotRegistered(operator);
        if (n.active == active) revert NodeActivationUnchanged(operator, active);
        n.active = active;
        emit NodeActiveSet(operator, active, msg.sender, block.timestamp);
    }

    /// @inheritdoc INodeRegistry
    function setNodeFrozen(address operator, bool frozen, bytes32 reasonHash)
        external
        onlyRole(ATTESTATION_GOVERNOR_ROLE)
    {
        Node storage n = _nodes[operator];
        if (!n.registered) revert NodeNotRegistered(operator);
        if (n.frozen == frozen) revert NodeFreezeUnchanged(operator, frozen);
        n.frozen = frozen;
        emit NodeFrozenSet(operator, frozen, reasonHash, msg.sender, block.timestamp);
    }

    // ------------------------------------------------------------------ operators

    /// @inheritdoc INodeRegistry
    function registerNode(
        address enclaveKey,
        AttestationType attestationType,
        bytes32 measurement,
        bytes32 quoteHash,
        string calldata quoteURI,
        string calldata metadataURI
    ) external {
        Node storage n = _nodes[msg.sender];
        if (n.registered) revert NodeAlreadyRegistered(msg.sender);
        n.registered = true;
        n.active = true;
        _writeBinding(n, enclaveKey, attestationType, measurement, quoteHash, quoteURI, metadataURI, true);
    }

    /// @inheritdoc INodeRegistry
    function updateNode(
        address enclaveKey,
        AttestationType attestationType,
        bytes32 measurement,
        bytes32 quoteHash,
        string calldata quoteURI,
        string calldata metadataURI
    ) external {
        Node storage n = _nodes[msg.sender];
        if (!n.registered) revert NodeNotRegistered(msg.sender);
        _writeBinding(n, enclaveKey, attestationType, measurement, quoteHash, quoteURI, metadataURI, false);
    }

    /// @inheritdoc INodeRegistry
    function registerDataset(
        uint256 root,
        uint64 recordCount,
        bytes32 schemaHash,
        uint80 priceFloor,
        string calldata profileURI
    ) external returns (uint256 datasetId) {
        _requireActiveNode(msg.sender);
        datasetId = nextDatasetId++;
        Dataset storage d = _datasets[datasetId];
        d.node = msg.sender;
        d.active = true;
        _writeDataset(datasetId, d, root, recordCount, schemaHash, priceFloor, profileURI, true);
    }

    /// @inheritdoc INodeRegistry
    function updateDataset(
        uint256 datasetId,
        uint256 root,
        uint64 recordCount,
        bytes32 schemaHash,
        uint80 priceFloor,
        string calldata profileURI
    ) external {
        Dataset storage d = _ownedDataset(datasetId);
        _requireActiveNode(msg.sender);
        _writeDataset(datasetId, d, root, recordCount, schemaHash, priceFloor, profileURI, false);
    }

    /// @inheritdoc INodeRegistry
    function setDatasetActive(uint256 datasetId, bool active) external {
        Dataset storage d = _ownedDataset(datasetId);
        d.active = active;
        emit DatasetActiveSet(datasetId, msg.sender, active, block.timestamp);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc INodeRegistry
    function getNode(address operator) external view returns (Node memory) {
        return _nodes[operator];
    }

    /// @inheritdoc INodeRegistry
    function getDataset(uint256 datasetId) external view returns (Dataset memory) {
        return _datasets[datasetId];
    }

    /// @inheritdoc INodeRegistry
    function isMeasurementAllowed(AttestationType attestationType, bytes32 measurement) external view returns (bool) {
        return _allowedMeasurements[attestationType][measurement];
    }

    /// @inheritdoc INodeRegistry
    function isNodeEligible(address operator) public view returns (bool) {
        Node storage n = _nodes[operator];
        return n.active && !n.frozen && n.bindingApproved && _allowedMeasurements[n.attestationType][n.measurement];
    }

    /// @inheritdoc INodeRegistry
    function isNodeFrozen(address operator) external view returns (bool) {
        return _nodes[operator].frozen;
    }

    /// @inheritdoc INodeRegistry
    function eligibleBinding(address operator) external view returns (address enclaveKey, bytes32 quoteHash) {
        if (!isNodeEligible(operator)) return (address(0), bytes32(0));
        Node storage n = _nodes[operator];
        return (n.enclaveKey, n.quoteHash);
    }

    /// @inheritdoc INodeRegistry
    function bindingReportData(address operator, address enclaveKey) external view returns (bytes32) {
        return keccak256(abi.encode(ENCLAVE_KEY_BINDING_TAG, block.chainid, address(this), operator, enclaveKey));
    }

    /// @inheritdoc INodeRegistry
    function datasetTerms(uint256 datasetId)
        external
        view
        returns (address node, uint256 root, uint80 priceFloor, bool datasetActive, bool nodeEligible)
    {
        Dataset storage d = _datasets[datasetId];
        node = d.node;
        // One slot of the node: the measurement allowlist is checked again (and the key pinned)
        // at acceptance, so creation skips those two reads.
        Node storage n = _nodes[node];
        return (node, d.root, d.priceFloor, d.active, n.active && !n.frozen && n.bindingApproved);
    }

    // ------------------------------------------------------------------ internal

    function _checkType(AttestationType t) private view {
        if (t == AttestationType.SIMULATED && !simulatedAllowed) revert SimulatedAttestationDisabled();
    }

    /// @dev A new key or new evidence always starts a pending binding: approval is per binding.
    function _writeBinding(
        Node storage n,
        address key,
        AttestationType t,
        bytes32 measurement,
        bytes32 quoteHash,
        string calldata quoteURI,
        string calldata metadataURI,
        bool isNew
    ) private {
        _checkType(t);
        if (key == address(0)) revert ZeroEnclaveKey();
        if (quoteHash == bytes32(0)) revert ZeroQuoteHash();
        if (!_allowedMeasurements[t][measurement]) revert MeasurementNotAllowed(t, measurement);
        n.enclaveKey = key;
        n.attestationType = t;
        n.bindingApproved = false;
        n.measurement = measurement;
        n.quoteHash = quoteHash;
        emit NodeRegistered(msg.sender, key, t, measurement, quoteHash, quoteURI, metadataURI, isNew, block.timestamp);
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
        uint80 priceFloor,
        string calldata profileURI,
        bool isNew
    ) private {
        if (root == 0 || root >= JobCodec.SNARK_SCALAR_FIELD) revert InvalidDatasetRoot(root);
        if (recordCount == 0) revert ZeroRecordCount();
        d.root = root;
        d.recordCount = recordCount;
        d.schemaHash = schemaHash;
        d.priceFloor = priceFloor;
        emit DatasetRegistered(
            datasetId, msg.sender, root, recordCount, schemaHash, priceFloor, profileURI, isNew, block.timestamp
        );
    }
}
