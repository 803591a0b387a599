// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRaphaClearingVault} from "./interfaces/IRaphaClearingVault.sol";

/// @title RaphaClearingVault
/// @notice Escrow and pull balances (see IRaphaClearingVault for the invariant and trust model).
/// @dev The researcher approves (or permits) THIS contract as spender for the escrow amount.
contract RaphaClearingVault is IRaphaClearingVault, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to set the protocol fee and the treasury.
    bytes32 public constant FEE_SETTER_ROLE = keccak256("FEE_SETTER_ROLE");
    /// @notice Upper bound of the protocol fee: 10%.
    uint16 public constant MAX_FEE_BPS = 1_000;
    uint256 private constant BPS = 10_000;

    /// @dev Pull balance kept as two monotonic counters in one slot, so crediting an account that
    /// has withdrawn before costs a warm non-zero write instead of a fresh one.
    struct Account {
        uint128 credited;
        uint128 withdrawn;
    }

    /// @notice The escrowed token (USDC).
    IERC20 public immutable token;
    /// @notice The only contract allowed to fund and release escrow (set once).
    address public jobRegistry;
    /// @dev Σ open escrows + Σ withdrawable balances. 96 bits (7.9e28 units) sit in the slot
    /// `onlyJobRegistry` reads anyway, so funding updates a warm slot.
    uint96 private _liabilities;
    /// @notice Receives protocol fees (as a pull balance).
    address public treasury;
    /// @inheritdoc IRaphaClearingVault
    uint16 public feeBps;
    /// @dev Fees not yet withdrawn by the current treasury. Packed with `treasury` and `feeBps`
    /// (a slot every settlement reads anyway), so crediting the fee costs one warm write instead
    /// of a separate balance slot. Part of `balanceOf(treasury)`.
    uint80 private _accruedFees;
    /// @dev The account that deployed the vault; it alone wires the JobRegistry, once, so the
    /// admin role can sit in a timelock from the first block.
    address private immutable _deployer;

    mapping(address account => Account) private _accounts;

    /// @param token_ The escrow token (USDC).
    /// @param admin DEFAULT_ADMIN_ROLE holder (a timelock or multisig in production).
    /// @param feeSetter FEE_SETTER_ROLE holder.
    /// @param treasury_ Fee recipient.
    /// @param feeBps_ Initial fee (basis points, <= MAX_FEE_BPS).
    constructor(IERC20 token_, address admin, address feeSetter, address treasury_, uint16 feeBps_) {
        if (address(token_) == address(0) || treasury_ == address(0) || admin == address(0)) revert ZeroAddress();
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);
        token = token_;
        _deployer = msg.sender;
        treasury = treasury_;
        feeBps = feeBps_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(FEE_SETTER_ROLE, feeSetter);
        // The treasury and fee are visible from events from the first block on.
        emit TreasurySet(address(0), treasury_, block.timestamp);
        emit FeeSet(0, feeBps_, block.timestamp);
    }

    modifier onlyJobRegistry() {
        if (msg.sender != jobRegistry) revert NotJobRegistry(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IRaphaClearingVault
    function setJobRegistry(address registry) external {
        if (msg.sender != _deployer) revert NotDeployer(msg.sender);
        if (registry == address(0)) revert ZeroAddress();
        if (jobRegistry != address(0)) revert JobRegistryAlreadySet();
        jobRegistry = registry;
        emit JobRegistrySet(registry);
    }

    /// @inheritdoc IRaphaClearingVault
    function setFeeBps(uint16 newFeeBps) external onlyRole(FEE_SETTER_ROLE) {
        if (newFeeBps > MAX_FEE_BPS) revert FeeTooHigh(newFeeBps, MAX_FEE_BPS);
        emit FeeSet(feeBps, newFeeBps, block.timestamp);
        feeBps = newFeeBps;
    }

    /// @inheritdoc IRaphaClearingVault
    function setTreasury(address newTreasury) external onlyRole(FEE_SETTER_ROLE) {
        if (newTreasury == address(0)) revert ZeroAddress();
        address old = treasury;
        uint256 fees = _accruedFees;
        if (fees != 0) {
            _accruedFees = 0;
            _credit(old, fees);
        }
        emit TreasurySet(old, newTreasury, block.timestamp);
        treasury = newTreasury;
    }

    /// @inheritdoc IRaphaClearingVault
    function sweepSurplus(address to) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = surplus();
        if (amount == 0) revert NoSurplus();
        token.safeTransfer(to, amount);
        emit SurplusSwept(to, amount, block.timestamp);
    }

    // ------------------------------------------------------------------ JobRegistry

    /// @inheritdoc IRaphaClearingVault
    function fund(address payer, uint256 amount) external onlyJobRegistry nonReentrant {
        _fund(payer, amount);
    }

    /// @inheritdoc IRaphaClearingVault
    function fundWithPermit(address payer, uint256 amount, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        onlyJobRegistry
        nonReentrant
    {
        try IERC20Permit(address(token)).permit(payer, address(this), amount, permitDeadline, v, r, s) {}
        catch {
            uint256 allowance = token.allowance(payer, address(this));
            if (allowance < amount) revert PermitFailed(payer, allowance, amount);
        }
        _fund(payer, amount);
    }

    /// @inheritdoc IRaphaClearingVault
    function release(uint256 jobId, address researcher, address node, uint256 escrow, uint256 payout, uint16 jobFeeBps)
        external
        onlyJobRegistry
        returns (uint256 nodeAmount, uint256 fee, uint256 refund)
    {
        (nodeAmount, fee, refund) = _split(jobId, researcher, escrow, payout, jobFeeBps);
        if (nodeAmount != 0) _credit(node, nodeAmount);
    }

    /// @inheritdoc IRaphaClearingVault
    function releaseAndPay(
        uint256 jobId,
        address researcher,
        address node,
        uint256 escrow,
        uint256 payout,
        uint16 jobFeeBps
    ) external onlyJobRegistry nonReentrant returns (uint256 nodeAmount, uint256 fee, uint256 refund) {
        (nodeAmount, fee, refund) = _split(jobId, researcher, escrow, payout, jobFeeBps);
        if (nodeAmount != 0) {
            // effects before the transfer: the amount leaves the liabilities as a withdrawal would
            _liabilities -= uint96(nodeAmount); // nodeAmount <= escrow, itself part of _liabilities
            token.safeTransfer(node, nodeAmount);
            emit Withdrawn(node, node, nodeAmount, block.timestamp);
        }
    }

    // ------------------------------------------------------------------ everyone

    /// @inheritdoc IRaphaClearingVault
    function withdraw() external returns (uint256 amount) {
        return _withdraw(msg.sender);
    }

    /// @inheritdoc IRaphaClearingVault
    function withdrawTo(address to) external returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        return _withdraw(to);
    }

    /// @inheritdoc IRaphaClearingVault
    function balanceOf(address account) external view returns (uint256) {
        Account memory a = _accounts[account];
        return a.credited - a.withdrawn + (account == treasury ? _accruedFees : 0);
    }

    /// @inheritdoc IRaphaClearingVault
    function totalLiabilities() public view returns (uint256) {
        return _liabilities;
    }

    /// @inheritdoc IRaphaClearingVault
    function surplus() public view returns (uint256) {
        uint256 held = token.balanceOf(address(this));
        uint256 owed = _liabilities;
        return held > owed ? held - owed : 0;
    }

    // ------------------------------------------------------------------ internal

    function _fund(address payer, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        if (amount > type(uint128).max) revert AmountTooLarge(amount);
        uint256 owed = _liabilities + amount;
        if (owed > type(uint96).max) revert AmountTooLarge(amount);
        _liabilities = uint96(owed);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(payer, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert UnexpectedBalanceChange(amount, received);
    }

    /// @dev Splits a closing escrow and credits the fee and the refund; the node's share is returned
    /// for the caller to credit or pay.
    function _split(uint256 jobId, address researcher, uint256 escrow, uint256 payout, uint16 jobFeeBps)
        private
        returns (uint256 nodeAmount, uint256 fee, uint256 refund)
    {
        if (payout > escrow) revert PayoutExceedsEscrow(jobId, payout, escrow);
        fee = payout * jobFeeBps / BPS;
        nodeAmount = payout - fee;
        refund = escrow - payout;
        if (fee != 0) {
            uint256 accrued = _accruedFees + fee;
            // 80 bits hold 1.2e24 units; beyond that (never with USDC) fall back to a plain credit.
            if (accrued <= type(uint80).max) _accruedFees = uint80(accrued);
            else _credit(treasury, fee);
        }
        if (refund != 0) _credit(researcher, refund);
    }

    function _credit(address account, uint256 amount) private {
        // Sums stay below totalLiabilities <= token supply, far below 2^128.
        _accounts[account].credited += uint128(amount);
    }

    function _withdraw(address to) private nonReentrant returns (uint256 amount) {
        Account storage a = _accounts[msg.sender];
        amount = a.credited - a.withdrawn;
        if (amount != 0) a.withdrawn = a.credited;
        if (msg.sender == treasury) {
            uint256 fees = _accruedFees;
            if (fees != 0) {
                _accruedFees = 0;
                amount += fees;
            }
        }
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _liabilities -= uint96(amount); // amount <= what was credited, itself part of _liabilities
        token.safeTransfer(to, amount);
        emit Withdrawn(msg.sender, to, amount, block.timestamp);
    }
}
