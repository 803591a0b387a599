// Institutional policy via Cedar (@cedar-policy/cedar-wasm, offline). Denials map to reason codes.
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { readFileSync } from "node:fs";
import { keccak256, toBytes } from "viem";
import { reasonCode, type ReasonName } from "../reasons.js";

export interface AdmissionRequest {
  researcher: string; // 0x address
  datasetId: string;
  offeredDatasets: string[];
  pricePerRecord: bigint;
  maxRecords: bigint;
  eligibleRecords: number;
  consentRequired: boolean;
  outputKinds: readonly string[];
  outputBytes: number;
  durationSeconds: number;
  modelKind: string;
  paramCount: number;
  /** ε budget of a DP-SGD spec (spec.privacy.epsilon); absent for non-private training and before the scan */
  dpEpsilon?: number;
}

/** ε as a Cedar decimal (4 fractional digits), rounded up so a cap is never passed by rounding. */
export function cedarEpsilon(eps: number): string {
  return (Math.ceil(eps * 10000 - 1e-9) / 10000).toFixed(4);
}

export interface AdmissionDecision {
  allowed: boolean;
  reasons: { policyId: string; reason: ReasonName | string; code: number }[];
  reasonCode?: number;
  policyHash: `0x${string}`;
}

interface ParsedPolicy {
  id: string;
  text: string;
  reason?: string;
}

export class PolicyEngine {
  readonly policies: ParsedPolicy[];
  readonly policyHash: `0x${string}`;

  constructor(readonly text: string) {
    const parts = cedar.policySetTextToParts(text);
    if (parts.type !== "success") throw new Error(`policy parse error: ${parts.errors.map((e) => e.message).join("; ")}`);
    this.policies = parts.policies.map((p, i) => {
      const j = cedar.policyToJson(p);
      if (j.type !== "success") throw new Error(`policy ${i}: ${j.errors.map((e) => e.message).join("; ")}`);
      const ann = (j.json.annotations ?? {}) as Record<string, string | null>;
      return { id: ann.id ?? `policy${i}`, text: p, reason: ann.reason ?? undefined };
    });
    const ids = new Set<string>();
    for (const p of this.policies) {
      if (ids.has(p.id)) throw new Error(`duplicate policy @id ${p.id}`);
      ids.add(p.id);
    }
    this.policyHash = keccak256(toBytes(text));
  }

  static fromFile(path: string): PolicyEngine {
    return new PolicyEngine(readFileSync(path, "utf8"));
  }

  /** The datasets as Cedar entities: offered ones are members of Rapha::DatasetGroup::"offered". */
  private static datasetEntities(datasetId: string, offered: string[]): cedar.EntityJson[] {
    const entities: cedar.EntityJson[] = [
      { uid: { type: "Rapha::DatasetGroup", id: "offered" }, attrs: {}, parents: [] },
      ...offered.map((id) => ({ uid: { type: "Rapha::Dataset", id }, attrs: {}, parents: [{ type: "Rapha::DatasetGroup", id: "offered" }] })),
    ];
    if (!offered.includes(datasetId)) entities.push({ uid: { type: "Rapha::Dataset", id: datasetId }, attrs: {}, parents: [] });
    return entities;
  }

  /**
   * May this caller ask a feasibility count (action Rapha::Action::"QueryFeasibility")? The principal
   * is the caller's signed-in address (SIWE), or Rapha::Researcher::"anonymous". Fails closed: a
   * policy without a permit for the action, or one that errors, denies.
   */
  mayQueryFeasibility(req: { principal: string | null; datasetId: string; offeredDatasets: string[] }): { allowed: boolean; policyIds: string[] } {
    const ans = cedar.isAuthorized({
      principal: { type: "Rapha::Researcher", id: req.principal?.toLowerCase() ?? "anonymous" },
      action: { type: "Rapha::Action", id: "QueryFeasibility" },
      resource: { type: "Rapha::Dataset", id: req.datasetId },
      context: { authenticated: req.principal !== null },
      policies: { staticPolicies: Object.fromEntries(this.policies.map((p) => [p.id, p.text])) },
      entities: PolicyEngine.datasetEntities(req.datasetId, req.offeredDatasets),
    });
    if (ans.type !== "success" || ans.response.diagnostics.errors.length) return { allowed: false, policyIds: [] };
    return { allowed: ans.response.decision === "allow", policyIds: ans.response.diagnostics.reason };
  }

  evaluate(req: AdmissionRequest): AdmissionDecision {
    const clampLong = (v: bigint) => Number(v > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : v);
    const entities = PolicyEngine.datasetEntities(req.datasetId, req.offeredDatasets);
    const ans = cedar.isAuthorized({
      principal: { type: "Rapha::Researcher", id: req.researcher.toLowerCase() },
      action: { type: "Rapha::Action", id: "runJob" },
      resource: { type: "Rapha::Dataset", id: req.datasetId },
      context: {
        pricePerRecord: clampLong(req.pricePerRecord),
        maxRecords: clampLong(req.maxRecords),
        eligibleRecords: req.eligibleRecords,
        consentRequired: req.consentRequired,
        outputKinds: [...req.outputKinds],
        outputBytes: req.outputBytes,
        durationSeconds: Math.floor(req.durationSeconds),
        modelKind: req.modelKind,
        // DP-SGD: `context.differentialPrivacy` always; `context.dpEpsilon` (decimal) only when it is true
        differentialPrivacy: req.dpEpsilon !== undefined,
        ...(req.dpEpsilon !== undefined ? { dpEpsilon: { __extn: { fn: "decimal", arg: cedarEpsilon(req.dpEpsilon) } } } : {}),
        paramCount: req.paramCount,
      },
      policies: { staticPolicies: Object.fromEntries(this.policies.map((p) => [p.id, p.text])) },
      entities,
    });
    if (ans.type !== "success") throw new Error(`policy evaluation failed: ${ans.errors.map((e) => e.message).join("; ")}`);
    const r = ans.response;
    if (r.diagnostics.errors.length) {
      // a policy that errors is treated as a denial (fail closed)
      return { allowed: false, reasons: r.diagnostics.errors.map((e) => ({ policyId: e.policyId, reason: "POLICY_DENIED", code: 1 })), reasonCode: 1, policyHash: this.policyHash };
    }
    if (r.decision === "allow") return { allowed: true, reasons: [], policyHash: this.policyHash };
    const reasons = r.diagnostics.reason.map((id) => {
      const p = this.policies.find((x) => x.id === id);
      const reason = p?.reason ?? "POLICY_DENIED";
      return { policyId: id, reason, code: reasonCode(reason) };
    });
    if (!reasons.length) reasons.push({ policyId: "(no permit)", reason: "POLICY_DENIED", code: 1 });
    return { allowed: false, reasons, reasonCode: reasons[0]!.code, policyHash: this.policyHash };
  }
}
