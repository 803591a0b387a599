// Policy templates written by `rapha-node init`. The hospital edits these files.
// Every `forbid` carries @reason("<REASON>") — the JobRegistry reject reason code it maps to.
export const DEFAULT_POLICY = `// Rapha institutional policy (Cedar). Edited by the hospital; evaluated for every job.
// Principal: Rapha::Researcher::"<0xaddress lowercase>"; Action: Rapha::Action::"runJob";
// Resource: Rapha::Dataset::"<datasetId>" (member of Rapha::DatasetGroup::"offered" when offered).
// Context: pricePerRecord (USDC base units), maxRecords, eligibleRecords (unique consented in-cohort
// records at this hospital), consentRequired, outputKinds (set), outputBytes, durationSeconds,
// modelKind, paramCount, differentialPrivacy (bool), dpEpsilon (decimal; only for DP-SGD jobs).
// A job is admitted only if it is permitted and no forbid applies. @reason maps to an on-chain code.

@id("base")
permit (principal, action == Rapha::Action::"runJob", resource);

@id("dataset-allowlist")
@reason("DATASET_MISMATCH")
forbid (principal, action == Rapha::Action::"runJob", resource)
unless { resource in Rapha::DatasetGroup::"offered" };

@id("researcher-denylist")
@reason("POLICY_DENIED")
forbid (principal, action == Rapha::Action::"runJob", resource)
when { principal in [Rapha::Researcher::"0x000000000000000000000000000000000000dead"] };

// Uncomment to admit only listed researchers:
// @id("researcher-allowlist")
// @reason("POLICY_DENIED")
// forbid (principal, action == Rapha::Action::"runJob", resource)
// unless { principal in [Rapha::Researcher::"0x..."] };

// Feasibility counts (POST /feasibility): who may ask how many records match a cohort before
// paying. Principal: the caller's SIWE address, or Rapha::Researcher::"anonymous"; context.authenticated.
// Answers are rounded, floored at config feasibility.k and signed; delete this permit to refuse all.
@id("feasibility-offered")
permit (principal, action == Rapha::Action::"QueryFeasibility", resource)
when { resource in Rapha::DatasetGroup::"offered" };

// Uncomment to answer only signed-in researchers:
// @id("feasibility-signed-in")
// forbid (principal, action == Rapha::Action::"QueryFeasibility", resource)
// unless { context.authenticated };

@id("min-cohort-size")
@reason("COHORT_TOO_SMALL")
forbid (principal, action == Rapha::Action::"runJob", resource)
when { context.eligibleRecords < 20 };

@id("consent-required")
@reason("POLICY_DENIED")
forbid (principal, action == Rapha::Action::"runJob", resource)
unless { context.consentRequired };

@id("output-kinds")
@reason("OUTPUT_POLICY")
forbid (principal, action == Rapha::Action::"runJob", resource)
unless { ["weights", "metrics"].containsAll(context.outputKinds) };

@id("output-size-cap")
@reason("OUTPUT_POLICY")
forbid (principal, action == Rapha::Action::"runJob", resource)
when { context.outputBytes > 4000000 };

@id("price-floor")
@reason("PRICE_TOO_LOW")
forbid (principal, action == Rapha::Action::"runJob", resource)
when { context.pricePerRecord < 1000 };

@id("max-duration")
@reason("DEADLINE_TOO_SHORT")
forbid (principal, action == Rapha::Action::"runJob", resource)
when { context.durationSeconds < 300 || context.durationSeconds > 2592000 };

// Differential privacy (DP-SGD, docs/PROTOCOL.md "Differential privacy"). context.differentialPrivacy
// says whether the job's spec trains with DP-SGD; context.dpEpsilon (a decimal, present only then) is
// its ε budget. Before the bundle is scanned modelKind is "unknown" and no ε is known yet.
// Uncomment to admit only DP-SGD jobs with ε ≤ 3:
// @id("dp-epsilon-cap")
// @reason("OUTPUT_POLICY")
// forbid (principal, action == Rapha::Action::"runJob", resource)
// when { context.modelKind != "unknown" && !(context.differentialPrivacy && context.dpEpsilon.lessThanOrEqual(decimal("3.0"))) };
`;
