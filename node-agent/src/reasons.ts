// JobRegistry reject reason codes — single source: sdk/src/abi (generated from the contracts).
import { RejectReason } from "@rapha/sdk/abi/index";
export const REASON = RejectReason;
export type ReasonName = keyof typeof RejectReason;
export const reasonCode = (n: string): number => (RejectReason as Record<string, number>)[n] ?? RejectReason.POLICY_DENIED;
