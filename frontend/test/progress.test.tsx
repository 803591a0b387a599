import { describe, expect, it, vi, afterEach } from "vitest";
import { render, screen } from "@testing-library/react";
import { Timeline } from "../src/components/Timeline";
import { buildTimeline, fmtEta, progressBars, type ChainEvent } from "../src/lib/timeline";
import { fetchProgress, type AgentProgress } from "../src/lib/agentApi";

const ev = (eventName: string, args: Record<string, unknown>, block: bigint, i: number): ChainEvent => ({
  eventName, args: { jobId: 7n, ...args }, blockNumber: block, logIndex: 0, transactionHash: `0x${i.toString(16).padStart(64, "0")}`,
});
const created = ev("JobCreated", { escrow: 50_000_000n, pricePerRecord: 50_000n, maxRecords: 1000n }, 10n, 1);
const accepted = ev("JobAccepted", { node: "0xabc" }, 11n, 2);
const proof = ev("BatchProven", { chunkIndex: 0n, count: 64n, provenCount: 64n }, 12n, 3);

const proving: AgentProgress = { stage: "trained", training: { epoch: 12, epochs: 12, loss: 0.41 }, batches: { proven: 3, submitted: 2, total: 5 }, etaSeconds: 150, updatedAt: 1 };

afterEach(() => vi.unstubAllGlobals());

describe("live progress between on-chain events", () => {
  it("turns the agent's progress into bars: training (epoch, loss), proofs generated, batches on chain, time left", () => {
    const bars = progressBars(proving, "proving");
    expect(bars.map((b) => [b.key, b.value, b.max])).toEqual([["training", 12, 12], ["proven", 3, 5], ["submitted", 2, 5]]);
    expect(bars[0]!.detail).toBe("epoch 12 of 12, loss 0.41");
    expect(bars[1]!.detail).toBe("3 of 5 batches, about 3 min left");
    const training = progressBars({ stage: "accepted", training: { epoch: 4, epochs: 40, loss: null }, batches: null, etaSeconds: 30 }, "accepted");
    expect(training).toHaveLength(1);
    expect(training[0]!.detail).toBe("epoch 4 of 40, under a minute left");
    // once the chain says the job ended, the events alone tell the story
    expect(progressBars(proving, "settled")).toEqual([]);
    expect(progressBars(null, "proving")).toEqual([]);
    expect(fmtEta(7200)).toBe("about 2.0 h left");
  });

  it("the timeline shows the bars after the last on-chain event and before the pending steps", () => {
    const { items, phase } = buildTimeline([created, accepted, proof]);
    render(<Timeline items={items} phase={phase} chainId={31337} progress={progressBars(proving, phase)} />);
    const lis = [...screen.getByLabelText("Job timeline").querySelectorAll("li")];
    const kinds = lis.map((li) => li.getAttribute("data-kind") ?? li.getAttribute("data-testid") ?? li.className);
    expect(kinds).toEqual(["created", "accepted", "proof", "progress-training", "progress-proven", "progress-submitted", "pending"]);
    const bar = screen.getByLabelText("Proofs generated") as HTMLProgressElement;
    expect(bar.value).toBe(3);
    expect(bar.max).toBe(5);
    expect(screen.queryByTestId("progress-unavailable")).toBeNull();
  });

  it("an unreachable agent: fetchProgress fails, and the timeline falls back to chain events with a note", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("fetch failed"); }));
    await expect(fetchProgress("http://hospital.test", 7n)).rejects.toThrow(/did not answer/);
    const { items, phase } = buildTimeline([created, accepted]);
    render(<Timeline items={items} phase={phase} chainId={31337} progress={progressBars(null, phase)} liveNote="Live progress unavailable (the hospital's agent did not answer); showing on-chain events only." />);
    expect(screen.queryByTestId("progress-training")).toBeNull();
    expect(screen.getByTestId("progress-unavailable").textContent).toMatch(/on-chain events only/);
    expect(screen.getAllByRole("listitem").map((li) => li.getAttribute("data-kind")).filter(Boolean)).toEqual(["created", "accepted"]);
  });

  it("fetchProgress accepts the agent's answer and refuses a malformed one", async () => {
    const body = { version: "rapha-progress/1", jobId: "7", ...proving };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body))));
    expect(await fetchProgress("http://hospital.test", 7n)).toEqual(proving);
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ ...body, batches: { proven: -1, submitted: 0, total: 5 } }))));
    await expect(fetchProgress("http://hospital.test", 7n)).rejects.toThrow(/malformed/);
  });
});
