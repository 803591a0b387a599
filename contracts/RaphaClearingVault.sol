// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title RaphaClearingVault
/// @notice Holds the USDC escrow of every job and the pull balances of hospitals, the treasury
/// and researchers. Escrow is funded and released only on JobRegistry's call; everything it
/// releases becomes a withdrawable balance, so no recipient (blacklisted, reverting) can block
/// anyone else. Invariant: `token.balanceOf(vault) == totalLiabilities == Σ open escrows +
/// Σ withdrawable balances` (plus any tokens sent to the vault directly, which no one can claim).
/// @dev The researcher approves (or permits) THIS contract as spender for the escrow amount.
contract RaphaClearingVault is AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to set the protocol fee and the treasury.
    bytes32 public constant FEE_SETTER_ROLE = keccak256("FEE_SETTER_ROLE");
    /// @notice Upper bound of the protocol fee: 10%.
    uint16 public constant MAX_FEE_BPS = 1_000;
    uint256 private constant BPS = 10_000;

    /// @notice One job's escrow. The fee rate is fixed when the job is funded.
    struct Escrow {
        uint128 amount;
        uint16 feeBps;
    }

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
    /// @notice Receives protocol fees (as a pull balance).
    address public treasury;
    /// @notice Protocol fee in basis points, applied to payouts of jobs funded from now on.
    uint16 public feeBps;
    /// @dev Fees not yet withdrawn by the current treasury. Packed with `treasury` and `feeBps`
    /// (a slot every settlement reads anyway), so crediting the fee costs one warm write instead
    /// of a separate balance slot. Part of `balanceOf(treasury)`.
    uint80 private _accruedFees;
    /// @notice Σ open escrows + Σ withdrawable balances.
    uint256 public totalLiabilities;
    /// @dev The account that deployed the vault; it alone wires the JobRegistry, once, so the
    /// admin role can sit in a timelock from the first block.
    address private immutable _deployer;

    mapping(uint256 jobId => Escrow) private _escrows;
    mapping(address account => Account) private _accounts;

    /// @notice A zero address was given.
    error ZeroAddress();
    /// @notice The caller is not the JobRegistry.
    error NotJobRegistry(address caller);
    /// @notice The JobRegistry was already set.
    error JobRegistryAlreadySet();
    /// @notice Only the deployer may wire the JobRegistry (once).
    error NotDeployer(address caller);
    /// @notice The fee exceeds MAX_FEE_BPS.
    error FeeTooHigh(uint256 feeBps, uint256 maxFeeBps);
    /// @notice Funding amount is zero.
    error ZeroAmount();
    /// @notice Amount does not fit the escrow's 128 bits.
    error AmountTooLarge(uint256 amount);
    /// @notice The job already has an escrow.
    error EscrowExists(uint256 jobId);
    /// @notice The job has no open escrow.
    error NoEscrow(uint256 jobId);
    /// @notice The payout exceeds the job's escrow.
    error PayoutExceedsEscrow(uint256 jobId, uint256 payout, uint256 escrow);
    /// @notice The vault received a different amount than requested (fee-on-transfer token).
    error UnexpectedBalanceChange(uint256 expected, uint256 received);
    /// @notice The permit failed and the allowance does not cover the amount.
    error PermitFailed(address owner, uint256 allowance, uint256 amount);
    /// @notice Nothing to withdraw.
    error NothingToWithdraw(address account);

    /// @notice Escrow was funded for a job.
    /// @param jobId Job id.
    /// @param payer Researcher who paid.
    /// @param amount Amount escrowed.
    /// @param feeBps Fee rate locked for this job.
    /// @param timestamp Block time.
    event EscrowFunded(uint256 indexed jobId, address indexed payer, uint256 amount, uint16 feeBps, uint256 timestamp);
    /// @notice A job's escrow was released into pull balances.
    /// @param jobId Job id.
    /// @param researcher Researcher credited with the refund.
    /// @param node Node operator credited with the payout net of fee.
    /// @param nodeAmount Credited to the node.
    /// @param fee Credited to the treasury.
    /// @param refund Credited to the researcher.
    /// @param timestamp Block time.
    event EscrowReleased(
        uint256 indexed jobId,
        address indexed researcher,
        address indexed node,
        uint256 nodeAmount,
        uint256 fee,
        uint256 refund,
        uint256 timestamp
    );
    /// @notice An account withdrew its balance.
    /// @param account Account whose balance was withdrawn.
    /// @param to Recipient of the tokens.
    /// @param amount Amount.
    /// @param timestamp Block time.
    event Withdrawn(address indexed account, address indexed to, uint256 amount, uint256 timestamp);
    /// @notice The fee rate changed.
    /// @param oldFeeBps Previous rate.
    /// @param newFeeBps New rate.
    /// @param timestamp Block time.
    event FeeSet(uint16 oldFeeBps, uint16 newFeeBps, uint256 timestamp);
    /// @notice The treasury changed.
    /// @param oldTreasury Previous treasury.
    /// @param newTreasury New treasury.
    /// @param timestamp Block time.
    event TreasurySet(address indexed oldTreasury, address indexed newTreasury, uint256 timestamp);
    /// @notice The JobRegistry was set (once).
    /// @param jobRegistry The registry.
    event JobRegistrySet(address indexed jobRegistry);

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
    }

    modifier onlyJobRegistry() {
        if (msg.sender != jobRegistry) revert NotJobRegistry(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ admin

    /// @notice Sets the JobRegistry, once (it is deployed after the vault). Deployer only.
    /// @param registry The JobRegistry.
    function setJobRegistry(address registry) external {
        if (msg.sender != _deployer) revert NotDeployer(msg.sender);
        if (registry == address(0)) revert ZeroAddress();
        if (jobRegistry != address(0)) revert JobRegistryAlreadySet();
        jobRegistry = registry;
        emit JobRegistrySet(registry);
    }

    /// @notice Sets the protocol fee for jobs funded from now on.
    /// @param newFeeBps Fee in basis points (<= MAX_FEE_BPS).
    function setFeeBps(uint16 newFeeBps) external onlyRole(FEE_SETTER_ROLE) {
        if (newFeeBps > MAX_FEE_BPS) revert FeeTooHigh(newFeeBps, MAX_FEE_BPS);
        emit FeeSet(feeBps, newFeeBps, block.timestamp);
        feeBps = newFeeBps;
    }

    /// @notice Sets the treasury that is credited with future fees. Fees accrued so far stay
    /// withdrawable by the previous treasury.
    /// @param newTreasury New treasury.
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

    // ------------------------------------------------------------------ JobRegistry

    /// @notice Pulls `amount` from `payer` (who approved this vault) into the job's escrow.
    /// @param jobId Job id (must have no escrow yet).
    /// @param payer Researcher.
    /// @param amount Amount (> 0).
    function fund(uint256 jobId, address payer, uint256 amount) external onlyJobRegistry nonReentrant {
        _fund(jobId, payer, amount);
    }

    /// @notice Like `fund`, after an EIP-2612 permit for `amount` to this vault. A permit that fails
    /// (e.g. front-run and already used) is ignored when the allowance already covers `amount`.
    /// @param jobId Job id.
    /// @param payer Researcher (permit owner).
    /// @param amount Amount (also the permit value).
    /// @param permitDeadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    function fundWithPermit(
        uint256 jobId,
        address payer,
        uint256 amount,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external onlyJobRegistry nonReentrant {
        try IERC20Permit(address(token)).permit(payer, address(this), amount, permitDeadline, v, r, s) {}
        catch {
            uint256 allowance = token.allowance(payer, address(this));
            if (allowance < amount) revert PermitFailed(payer, allowance, amount);
        }
        _fund(jobId, payer, amount);
    }

    /// @notice Closes a job's escrow: credits `payout` minus the fee to `node`, the fee to the
    /// treasury and the rest of the escrow to `researcher`, all as pull balances.
    /// @param jobId Job id.
    /// @param researcher Refund recipient.
    /// @param node Payout recipient (ignored when `payout` is 0).
    /// @param payout Gross payout (<= escrow).
    /// @return nodeAmount Credited to the node.
    /// @return fee Credited to the treasury.
    /// @return refund Credited to the researcher.
    function release(uint256 jobId, address researcher, address node, uint256 payout)
        external
        onlyJobRegistry
        returns (uint256 nodeAmount, uint256 fee, uint256 refund)
    {
        Escrow memory e = _escrows[jobId];
        if (e.amount == 0) revert NoEscrow(jobId);
        if (payout > e.amount) revert PayoutExceedsEscrow(jobId, payout, e.amount);
        delete _escrows[jobId];
        fee = payout * e.feeBps / BPS;
        nodeAmount = payout - fee;
        refund = e.amount - payout;
        if (nodeAmount != 0) _credit(node, nodeAmount);
        if (fee != 0) {
            uint256 accrued = _accruedFees + fee;
            // 80 bits hold 1.2e24 units; beyond that (never with USDC) fall back to a plain credit.
            if (accrued <= type(uint80).max) _accruedFees = uint80(accrued);
            else _credit(treasury, fee);
        }
        if (refund != 0) _credit(researcher, refund);
        emit EscrowReleased(jobId, researcher, node, nodeAmount, fee, refund, block.timestamp);
    }

    // ------------------------------------------------------------------ everyone

    /// @notice Withdraws the caller's whole balance to the caller. Never paused.
    /// @return amount Amount sent.
    function withdraw() external returns (uint256 amount) {
        return _withdraw(msg.sender);
    }

    /// @notice Withdraws the caller's whole balance to `to` (e.g. when the caller is blacklisted).
    /// @param to Recipient.
    /// @return amount Amount sent.
    function withdrawTo(address to) external returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        return _withdraw(to);
    }

    /// @notice Withdrawable balance of an account.
    /// @param account Account.
    /// @return Amount.
    function balanceOf(address account) external view returns (uint256) {
        Account memory a = _accounts[account];
        return a.credited - a.withdrawn + (account == treasury ? _accruedFees : 0);
    }

    /// @notice Open escrow of a job.
    /// @param jobId Job id.
    /// @return amount Escrowed amount (0 when closed or never funded).
    /// @return jobFeeBps Fee rate locked for the job.
    function escrowOf(uint256 jobId) external view returns (uint256 amount, uint16 jobFeeBps) {
        Escrow memory e = _escrows[jobId];
        return (e.amount, e.feeBps);
    }

    // ------------------------------------------------------------------ internal

    function _fund(uint256 jobId, address payer, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        if (amount > type(uint128).max) revert AmountTooLarge(amount);
        if (_escrows[jobId].amount != 0) revert EscrowExists(jobId);
        uint16 rate = feeBps;
        _escrows[jobId] = Escrow({amount: uint128(amount), feeBps: rate});
        totalLiabilities += amount;
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(payer, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert UnexpectedBalanceChange(amount, received);
        emit EscrowFunded(jobId, payer, amount, rate, block.timestamp);
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
        totalLiabilities -= amount;
        token.safeTransfer(to, amount);
        emit Withdrawn(msg.sender, to, amount, block.timestamp);
    }
}
