// Feasibility counts: "how many consented, eligible records do you hold for this cohort?", answered
// before any escrow. Order of checks: flood limit (before any parsing), request shape (zod), Cedar
// (QueryFeasibility), dataset offered, cohort width, cache, daily budget, then the count itself
// behind the differencing defence (audit.ts) and the release rules (release.ts). Every refusal is a
// fixed sentence; no answer carries anything finer than a rounded count floored at k.
import { join } from "node:path";
import { z } from "zod";
import type { Address, Hex } from "viem";
import { cohortFromDefinition, decodeCohortParams, encodeCohortParams, type CohortParams } from "@rapha/sdk/cohort";
import { FEASIBILITY_TYPES, feasibilityDomain, feasibilityMessage, type FeasibilityAnswer } from "@rapha/sdk/feasibility";
import { describeIssues } from "../config.js";
import { ExpiringMap, RateLimiter } from "../deliver/limits.js";
import type { RecordAttributes } from "../data/cohort.js";
import { AnchorLog, DifferencingAudit } from "./audit.js";
import { Members } from "./members.js";
import { keyedUniform, release, type ReleaseRules } from "./release.js";

export interface FeasibilityRules extends ReleaseRules {
  minAgeSpan: number;
  perMinute: number;
  perDay: number;
  maxAnswersPerDataset: number;
  cacheTtlSeconds: number;
}

/** A refusal: HTTP status, a fixed sentence (never an echoed value) and headers (Retry-After). */
export class FeasibilityRefusal extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

const uintString = z.string().regex(/^(0|[1-9]\d{0,77})$/, "expected a decimal unsigned integer (as a string)");
export const feasibilityRequestSchema = z
  .strictObject({
    datasetId: uintString,
    /** the job's cohortParams (sdk cohort codec), or… */
    cohortParams: uintString.optional(),
    /** …the human-readable cohort definition (sdk cohortDefinitionSchema) */
    cohort: z.unknown().optional(),
  })
  .refine((r) => (r.cohortParams === undefined) !== (r.cohort === undefined), "give exactly one of cohortParams or cohort");
export type FeasibilityRequest = z.input<typeof feasibilityRequestSchema>;

export interface FeasibilityOptions {
  rules: FeasibilityRules;
  chainId: number;
  /** the node's operator address (registered in NodeRegistry) and its EIP-712 signer */
  signer: Address;
  signTypedData: (t: { domain: ReturnType<typeof feasibilityDomain>; types: typeof FEASIBILITY_TYPES; primaryType: "Feasibility"; message: ReturnType<typeof feasibilityMessage> }) => Promise<Hex>;
  /** the dataset's records, or null when the node does not offer it */
  records: (datasetId: string) => Promise<RecordAttributes[] | null>;
  offeredDatasets: () => string[];
  /** the Cedar decision for QueryFeasibility */
  mayAsk: (principal: string | null, datasetId: string, offered: string[]) => boolean;
  /** keys the sticky noise (a hospital secret: without it the noise cannot be predicted) */
  noiseKey: string;
  /** where anchors are persisted (one file per dataset); none = memory only */
  stateDir?: string;
  now?: () => number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

export class FeasibilityService {
  private perMinute: RateLimiter;
  private perDay: RateLimiter;
  private cache: ExpiringMap<FeasibilityAnswer>;
  private audits = new Map<string, { records: RecordAttributes[]; audit: DifferencingAudit }>();
  private now: () => number;

  constructor(readonly o: FeasibilityOptions) {
    this.now = o.now ?? Date.now;
    this.perMinute = new RateLimiter(o.rules.perMinute, MINUTE, 10_000, this.now);
    this.perDay = new RateLimiter(o.rules.perDay, DAY, 10_000, this.now);
    this.cache = new ExpiringMap(10_000, this.now);
  }

  /**
   * Answers one query. `client` is the caller's network identity (IP), `principal` its signed-in
   * address or null. Throws FeasibilityRefusal.
   */
  async answer(body: unknown, client: string, principal: string | null): Promise<FeasibilityAnswer> {
    const r = this.o.rules;
    if (!this.perMinute.hit(client) || (principal && !this.perMinute.hit(`addr:${principal}`))) throw new FeasibilityRefusal(429, "too many feasibility queries; retry in a minute", { "retry-after": "60" });
    const req = feasibilityRequestSchema.safeParse(body);
    if (!req.success) throw new FeasibilityRefusal(400, describeIssues("feasibility request", req.error.issues));
    const cohort = parseCohort(req.data);
    const datasetId = req.data.datasetId;
    const offered = this.o.offeredDatasets();
    if (!this.o.mayAsk(principal, datasetId, offered)) throw new FeasibilityRefusal(403, "this hospital's policy does not answer feasibility queries from this caller for this dataset");
    if (!offered.includes(datasetId)) throw new FeasibilityRefusal(404, "dataset not offered by this node");
    if (cohort.ageMax - cohort.ageMin + 1 < r.minAgeSpan) throw new FeasibilityRefusal(400, `cohort age range must span at least ${r.minAgeSpan} years (narrow cohorts single out patients)`);
    const params = encodeCohortParams(cohort).toString();
    const key = `${datasetId}:${params}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    if (!this.perDay.hit(client) || (principal && !this.perDay.hit(`addr:${principal}`))) throw new FeasibilityRefusal(429, "daily feasibility query budget spent for this client; retry tomorrow", { "retry-after": String(DAY / 1000) });

    const records = await this.o.records(datasetId);
    if (!records) throw new FeasibilityRefusal(404, "dataset not offered by this node");
    const audit = this.audit(datasetId, records);
    const members = Members.of(records, cohort);
    const anchor = audit.near(members);
    let released = anchor?.released;
    if (!released) {
      if (audit.full) throw new FeasibilityRefusal(429, "this dataset's feasibility answer budget is spent; ask the hospital", { "retry-after": String(DAY / 1000) });
      released = release(members.count, r, keyedUniform(this.o.noiseKey, `${datasetId}:${members.label()}`));
      audit.add({ cohortParams: params, members, released });
      if (this.o.stateDir) new AnchorLog(this.anchorPath(datasetId)).append(params, released);
    }
    const unsigned = { datasetId, cohortParams: params, ...released, roundTo: r.roundTo, issuedAt: Math.floor(this.now() / 1000) };
    const signature = await this.o.signTypedData({ domain: feasibilityDomain(this.o.chainId), types: FEASIBILITY_TYPES, primaryType: "Feasibility", message: feasibilityMessage(unsigned) });
    const answer: FeasibilityAnswer = { version: "rapha-feasibility/1", chainId: this.o.chainId, ...unsigned, signer: this.o.signer, signature };
    if (r.cacheTtlSeconds > 0) this.cache.set(key, answer, r.cacheTtlSeconds * 1000);
    return answer;
  }

  private anchorPath(datasetId: string): string {
    return join(this.o.stateDir!, `anchors-${datasetId}.jsonl`);
  }

  /**
   * The dataset's audit. Anchor sets are bitsets over one load of the records: after a reload (or a
   * restart, from the persisted log) they are recomputed on the current records.
   */
  private audit(datasetId: string, records: RecordAttributes[]): DifferencingAudit {
    const cur = this.audits.get(datasetId);
    if (cur?.records === records) return cur.audit;
    const entries = cur ? cur.audit.entries() : this.o.stateDir ? new AnchorLog(this.anchorPath(datasetId)).read() : [];
    const audit = new DifferencingAudit(this.o.rules.k, this.o.rules.maxAnswersPerDataset);
    for (const x of entries) {
      try {
        audit.add({ cohortParams: x.cohortParams, members: Members.of(records, decodeCohortParams(x.cohortParams)), released: x.released });
      } catch {
        /* an unreadable entry: skip it */
      }
    }
    this.audits.set(datasetId, { records, audit });
    return audit;
  }
}

function parseCohort(req: { cohortParams?: string; cohort?: unknown }): CohortParams {
  try {
    return req.cohortParams !== undefined ? decodeCohortParams(req.cohortParams) : cohortFromDefinition(req.cohort);
  } catch (e) {
    if (e instanceof z.ZodError) throw new FeasibilityRefusal(400, describeIssues(req.cohortParams !== undefined ? "cohortParams" : "cohort", e.issues));
    if (e instanceof RangeError) throw new FeasibilityRefusal(400, "cohortParams: reserved bits set");
    throw new FeasibilityRefusal(400, "cohort: not a valid cohort");
  }
}
