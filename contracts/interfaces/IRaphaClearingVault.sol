// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IRaphaClearingVault
/// @notice Holds the USDC escrow of every job and the pull balances of hospitals, the treasury and
/// researchers. Escrow is funded and released only on JobRegistry's call; everything released
/// becomes a withdrawable balance, so no recipient (blacklisted, reverting) can block anyone else.
///
/// Invariant: `token.balanceOf(vault) >= totalLiabilities`, where totalLiabilities = Σ open escrows
/// + Σ withdrawable balances. Equality holds until someone transfers tokens to the vault directly
/// (a donation): that surplus belongs to no one and governance can sweep it (`sweepSurplus`), never
/// more than `balance - totalLiabilities`.
///
/// Per-job escrow amounts are not stored here: JobRegistry commits to each job's price, size and
/// fee rate in its job hash and releases a job at most once (its status machine), passing the
/// escrow back. The vault enforces payout <= escrow and keeps liabilities exact.
///
/// Lean settlement (`releaseAndPay`): the settling node may take its own released amount in the
/// same transaction instead of a later `withdraw`. It is still a pull: the registry calls it only
/// when the recipient is the settling caller (msg.sender == the job's node), the fee and the refund
/// stay credited for pull, and the vault emits `Withdrawn(node, node, amount)` so that, from the
/// events, every account's balance is Σ credits (JobSettled/JobExpired/...) − Σ Withdrawn.
interface IRaphaClearingVault {
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
    /// @notice Amount does not fit 128 bits.
    error AmountTooLarge(uint256 amount);
    /// @notice The payout exceeds the job's escrow.
    error PayoutExceedsEscrow(uint256 jobId, uint256 payout, uint256 escrow);
    /// @notice The vault received a different amount than requested (fee-on-transfer token).
    error UnexpectedBalanceChange(uint256 expected, uint256 received);
    /// @notice The permit failed and the allowance does not cover the amount.
    error PermitFailed(address owner, uint256 allowance, uint256 amount);
    /// @notice Nothing to withdraw.
    error NothingToWithdraw(address account);
    /// @notice The vault holds no tokens beyond its liabilities.
    error NoSurplus();

    /// @notice An account withdrew its balance.
    /// @param account Account whose balance was withdrawn.
    /// @param to Recipient of the tokens.
    /// @param amount Amount.
    /// @param timestamp Block time.
    event Withdrawn(address indexed account, address indexed to, uint256 amount, uint256 timestamp);
    /// @notice The fee rate changed (also emitted by the constructor, from 0).
    /// @param oldFeeBps Previous rate.
    /// @param newFeeBps New rate.
    /// @param timestamp Block time.
    event FeeSet(uint16 oldFeeBps, uint16 newFeeBps, uint256 timestamp);
    /// @notice The treasury changed (also emitted by the constructor, from address(0)).
    /// @param oldTreasury Previous treasury.
    /// @param newTreasury New treasury.
    /// @param timestamp Block time.
    event TreasurySet(address indexed oldTreasury, address indexed newTreasury, uint256 timestamp);
    /// @notice The JobRegistry was set (once).
    /// @param jobRegistry The registry.
    event JobRegistrySet(address indexed jobRegistry);
    /// @notice Governance swept tokens held beyond liabilities (donations); liabilities unchanged.
    /// @param to Recipient.
    /// @param amount Amount swept (= balance - totalLiabilities at the time).
    /// @param timestamp Block time.
    event SurplusSwept(address indexed to, uint256 amount, uint256 timestamp);

    /// @notice Sets the JobRegistry, once (it is deployed after the vault). Deployer only.
    /// @param registry The JobRegistry.
    function setJobRegistry(address registry) external;

    /// @notice Sets the protocol fee for jobs funded from now on.
    /// @param newFeeBps Fee in basis points (<= MAX_FEE_BPS).
    function setFeeBps(uint16 newFeeBps) external;

    /// @notice Sets the treasury credited with future fees. Fees accrued so far stay withdrawable
    /// by the previous treasury.
    /// @param newTreasury New treasury.
    function setTreasury(address newTreasury) external;

    /// @notice Sends every token held beyond totalLiabilities to `to` (DEFAULT_ADMIN_ROLE).
    /// @param to Recipient.
    /// @return amount Amount swept.
    function sweepSurplus(address to) external returns (uint256 amount);

    /// @notice Protocol fee in basis points, locked into each job's terms at creation.
    /// @return The current rate.
    function feeBps() external view returns (uint16);

    /// @notice Pulls `amount` from `payer` (who approved this vault) into escrow for a job.
    /// @param payer Researcher.
    /// @param amount Amount (> 0, < 2^128).
    function fund(address payer, uint256 amount) external;

    /// @notice Like `fund`, after an EIP-2612 permit for `amount` to this vault. A permit that fails
    /// (e.g. front-run and already used) is ignored when the allowance already covers `amount`.
    /// @param payer Researcher (permit owner).
    /// @param amount Amount (also the permit value).
    /// @param permitDeadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    function fundWithPermit(address payer, uint256 amount, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external;

    /// @notice Closes a job's escrow: credits `payout` minus the fee to `node`, the fee to the
    /// treasury and `escrow - payout` to `researcher`, all as pull balances.
    /// @param jobId Job id (for the error only).
    /// @param researcher Refund recipient.
    /// @param node Payout recipient (ignored when `payout` is 0).
    /// @param escrow The job's escrow as funded.
    /// @param payout Gross payout (<= escrow).
    /// @param feeBps Fee rate locked at funding.
    /// @return nodeAmount Credited to the node.
    /// @return fee Credited to the treasury.
    /// @return refund Credited to the researcher.
    function release(uint256 jobId, address researcher, address node, uint256 escrow, uint256 payout, uint16 feeBps)
        external
        returns (uint256 nodeAmount, uint256 fee, uint256 refund);

    /// @notice Like `release`, then sends the node's share (payout minus fee) straight to `node`
    /// instead of crediting it: the settling node collects its own payment in the settling
    /// transaction. Liabilities drop by that amount before the transfer (checks-effects-interactions;
    /// non-reentrant); the fee and the refund are credited as pull balances as in `release`. Emits
    /// Withdrawn(node, node, nodeAmount) when nodeAmount > 0. Only the JobRegistry, which calls it
    /// only with `node` = its caller.
    /// @param jobId Job id (for the error only).
    /// @param researcher Refund recipient.
    /// @param node Payout recipient, paid by transfer.
    /// @param escrow The job's escrow as funded.
    /// @param payout Gross payout (<= escrow).
    /// @param feeBps Fee rate locked at funding.
    /// @return nodeAmount Sent to the node.
    /// @return fee Credited to the treasury.
    /// @return refund Credited to the researcher.
    function releaseAndPay(
        uint256 jobId,
        address researcher,
        address node,
        uint256 escrow,
        uint256 payout,
        uint16 feeBps
    ) external returns (uint256 nodeAmount, uint256 fee, uint256 refund);

    /// @notice Withdraws the caller's whole balance to the caller. Never paused.
    /// @return amount Amount sent.
    function withdraw() external returns (uint256 amount);

    /// @notice Withdraws the caller's whole balance to `to` (e.g. when the caller is blacklisted).
    /// @param to Recipient.
    /// @return amount Amount sent.
    function withdrawTo(address to) external returns (uint256 amount);

    /// @notice Withdrawable balance of an account.
    /// @param account Account.
    /// @return Amount.
    function balanceOf(address account) external view returns (uint256);

    /// @notice Σ open escrows + Σ withdrawable balances.
    /// @return Amount.
    function totalLiabilities() external view returns (uint256);

    /// @notice Tokens held beyond liabilities (donations), sweepable by governance.
    /// @return Amount.
    function surplus() external view returns (uint256);
}
