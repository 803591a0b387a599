import { describe, expect, it } from "vitest";
import { buildTimeline, eventToItem, rejectionReason, type ChainEvent } from "../src/lib/timeline";
import { RejectReason } from "@rapha/sdk/abi";

let n = 0;
const ev = (eventName: string, args: Record<string, unknown>, block: bigint, logIndex = 0): ChainEvent => ({
  eventName, args: { jobId: 7n, ...args }, blockNumber: block, logIndex, transactionHash: `0x${(++n).toString(16).padStart(64, "0")}`,
});

const created = ev("JobCreated", { escrow: 50_000_000n, pricePerRecord: 50_000n, maxRecords: 1000n, createdAt: 1_800_000_000n }, 10n);

describe("state → timeline mapping", () => {
  it("a created job is open, with the escrow and terms in words and the rest pending", () => {
    const t = buildTimeline([created]);
    expect(t.phase).toBe("open");
    expect(t.items).toHaveLength(1);
    expect(t.items[0].detail).toContain("50.00 USDC escrowed");
    expect(t.items[0].detail).toContain("0.05 USDC per record");
    expect(t.items[0].detail).toContain("up to 1000 records");
  });

  it("a rejection shows its reason in words and the refund", () => {
    const t = buildTimeline([ev("JobRejected", { reasonCode: RejectReason.COHORT_TOO_SMALL, refund: 50_000_000n }, 12n), created]);
    expect(t.phase).toBe("rejected");
    const r = t.items[1];
    expect(r.kind).toBe("rejected");
    expect(r.tone).toBe("bad");
    expect(r.detail).toMatch(/cohort is too small/i);
    expect(r.detail).toContain("50.00 USDC refunded to you");
  });

  it("every reason code 1..11 has words; unknown codes still say their number", () => {
    for (let c = 1; c <= 11; c++) expect(rejectionReason(c)).not.toMatch(/reason code/);
    expect(rejectionReason(42)).toContain("reason code 42");
  });

  it("accepted → batches proven with counts → settled with payout, fee and refund, in block order", () => {
    const t = buildTimeline([
      ev("JobSettled", { provenCount: 700n, paidRecords: 700n, nodeAmount: 34_300_000n, fee: 700_000n, refund: 15_000_000n, receiptHash: "0x01" }, 20n),
      ev("BatchProven", { chunkIndex: 1n, count: 300n, provenCount: 700n }, 15n, 1),
      ev("BatchProven", { chunkIndex: 0n, count: 400n, provenCount: 400n }, 15n, 0),
      ev("JobAccepted", { node: "0x00000000000000000000000000000000000000aa", acceptedAt: 1_800_000_100n }, 11n),
      created,
    ]);
    expect(t.items.map((i) => i.kind)).toEqual(["created", "accepted", "proof", "proof", "settled"]);
    expect(t.items[2].title).toContain("batch 0");
    expect(t.items[2].detail).toBe("400 records proven, 400 in total");
    expect(t.items[3].detail).toBe("300 records proven, 700 in total");
    expect(t.items[4].detail).toBe("700 records paid, 34.30 USDC to the hospital, 0.70 USDC fee, 15.00 USDC refunded to you");
    expect(t.phase).toBe("settled");
  });

  it("phase follows the latest event: accepted, proving, cancelled, expired", () => {
    expect(buildTimeline([created, ev("JobAccepted", {}, 11n)]).phase).toBe("accepted");
    expect(buildTimeline([created, ev("JobAccepted", {}, 11n), ev("BatchProven", { count: 1n }, 12n)]).phase).toBe("proving");
    expect(buildTimeline([created, ev("JobCancelled", { refund: 1_000_000n }, 11n)]).phase).toBe("cancelled");
    const exp = buildTimeline([created, ev("JobExpired", { paidRecords: 0n, nodeAmount: 0n, refund: 50_000_000n }, 30n)]);
    expect(exp.phase).toBe("expired");
    expect(exp.items[1].detail).toBe("50.00 USDC refunded to you");
  });

  it("speaks of the researcher in the third person to hospitals and auditors", () => {
    const t = buildTimeline([created, ev("JobCancelled", { refund: 1_000_000n }, 11n)], "other");
    expect(t.items[1].title).toBe("Cancelled by the researcher");
    expect(t.items[1].detail).toBe("1.00 USDC refunded to the researcher");
  });

  it("ignores events that are not part of the job story", () => {
    expect(eventToItem(ev("RoleGranted", {}, 1n))).toBeNull();
  });
});
