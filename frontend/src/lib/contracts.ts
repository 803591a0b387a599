// Typed ABIs come from the sdk (generated from the compiled contracts), never hand-copied.
export { jobRegistryAbi, nodeRegistryAbi, raphaClearingVaultAbi as vaultAbi, mockUsdcAbi } from "@rapha/sdk/abi";
