import { describe, expect, it, vi, afterEach } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { privateKeyToAccount } from "viem/accounts";
import { FEASIBILITY_TYPES, feasibilityDomain, feasibilityMessage } from "@rapha/sdk/feasibility";
import { Feasibility } from "../src/components/Feasibility";
import { JobForm } from "../src/components/JobForm";
import { COHORT_LABELS, encodeCohortSync } from "../src/lib/cohortCodec";
import { DEFAULT_COHORT } from "../src/lib/cohort";

// the hospital's node key (the dApp checks answers against the node registered for the dataset)
const node = privateKeyToAccount("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6");
const other = privateKeyToAccount("0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a");
const params = encodeCohortSync(DEFAULT_COHORT).cohortParams;

async function answer(o: { value: number; fewerThan?: boolean; signer?: typeof node; cohortParams?: bigint }) {
  const a = { datasetId: "3", cohortParams: String(o.cohortParams ?? params), fewerThan: o.fewerThan ?? false, value: o.value, roundTo: 10, noiseScaleMilli: 0, issuedAt: 1_800_000_000 };
  const signature = await (o.signer ?? node).signTypedData({ domain: feasibilityDomain(31337), types: FEASIBILITY_TYPES, primaryType: "Feasibility", message: feasibilityMessage(a) });
  return { version: "rapha-feasibility/1", chainId: 31337, ...a, signer: (o.signer ?? node).address, signature };
}

/** The agent over HTTP: only the network is replaced; the answer is really signed and really verified. */
function agentAnswers(body: unknown, status = 200) {
  const f = vi.fn(async (_url: string, _init?: RequestInit) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } }));
  vi.stubGlobal("fetch", f);
  return f;
}
afterEach(() => vi.unstubAllGlobals());

const target = { datasetId: 3n, node: node.address, base: "http://hospital.test" };

describe("Feasibility (record count before escrow)", () => {
  it("asks the node for the cohort, verifies its signature, shows the rounded count and reports it", async () => {
    const f = agentAnswers(await answer({ value: 430 }));
    const onCount = vi.fn();
    render(<Feasibility target={target} cohort={DEFAULT_COHORT} chainId={31337} onCount={onCount} debounceMs={0} />);
    await waitFor(() => expect(screen.getByTestId("feasibility").textContent).toContain("About 430 consented, eligible records"));
    expect(onCount).toHaveBeenLastCalledWith(430);
    const [url, init] = f.mock.calls[0]!;
    expect(url).toBe("http://hospital.test/feasibility");
    expect(JSON.parse(String(init!.body))).toEqual({ datasetId: "3", cohortParams: String(params) });
  });

  it("below the hospital's k it says 'fewer than k' and does not move the max-records default", async () => {
    agentAnswers(await answer({ value: 20, fewerThan: true }));
    const onCount = vi.fn();
    render(<Feasibility target={target} cohort={DEFAULT_COHORT} chainId={31337} onCount={onCount} debounceMs={0} />);
    await waitFor(() => expect(screen.getByTestId("feasibility").textContent).toMatch(/Fewer than 20.*Widen the cohort/));
    expect(onCount).toHaveBeenLastCalledWith(null);
  });

  it("refuses an answer not signed by the dataset's node, or for another cohort", async () => {
    agentAnswers(await answer({ value: 430, signer: other }));
    const { unmount } = render(<Feasibility target={target} cohort={DEFAULT_COHORT} chainId={31337} debounceMs={0} />);
    await waitFor(() => expect(screen.getByTestId("feasibility").textContent).toMatch(/not signed by the dataset's node/));
    unmount();
    agentAnswers(await answer({ value: 430, cohortParams: params + 1n }));
    render(<Feasibility target={target} cohort={DEFAULT_COHORT} chainId={31337} debounceMs={0} />);
    await waitFor(() => expect(screen.getByTestId("feasibility").textContent).toMatch(/another dataset or cohort/));
  });

  it("shows the node's refusal (e.g. flood limit) in words", async () => {
    agentAnswers({ error: "too many feasibility queries; retry in a minute" }, 429);
    render(<Feasibility target={target} cohort={DEFAULT_COHORT} chainId={31337} debounceMs={0} />);
    await waitFor(() => expect(screen.getByTestId("feasibility").textContent).toMatch(/HTTP 429 — too many feasibility queries/));
  });

  it("a count that arrives after the researcher typed a max does not overwrite it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const body = await answer({ value: 430 });
    vi.stubGlobal("fetch", vi.fn(async () => { await gate; return new Response(JSON.stringify(body)); }));
    const datasets = [{ id: 3n, label: "#3", recordCount: 5000n, priceFloor: 10_000n, active: true, root: 77n }];
    render(<JobForm datasets={datasets} labels={COHORT_LABELS} onSubmit={() => {}} now={() => 1_800_000_000}
      feasibility={({ cohort, onCount }) => <Feasibility target={target} cohort={cohort} chainId={31337} onCount={onCount} debounceMs={0} />} />);
    await waitFor(() => expect(screen.getByTestId("feasibility").textContent).toMatch(/Asking/));
    fireEvent.change(screen.getByLabelText("Max records"), { target: { value: "150" } });
    release();
    await waitFor(() => expect(screen.getByTestId("feasibility").textContent).toContain("About 430"));
    expect((screen.getByLabelText("Max records") as HTMLInputElement).value).toBe("150");
  });

  it("in the job form, the max-records default follows the count until the researcher types one", async () => {
    agentAnswers(await answer({ value: 430 }));
    const datasets = [{ id: 3n, label: "#3", recordCount: 5000n, priceFloor: 10_000n, active: true, root: 77n }];
    render(<JobForm datasets={datasets} labels={COHORT_LABELS} onSubmit={() => {}} now={() => 1_800_000_000}
      feasibility={({ cohort, onCount }) => <Feasibility target={target} cohort={cohort} chainId={31337} onCount={onCount} debounceMs={0} />} />);
    await waitFor(() => expect((screen.getByLabelText("Max records") as HTMLInputElement).value).toBe("430"));
    expect(screen.getByTestId("budget").textContent).toContain("21.50 USDC"); // 430 × 0.05
    fireEvent.change(screen.getByLabelText("Max records"), { target: { value: "100" } });
    agentAnswers(await answer({ value: 200, cohortParams: encodeCohortSync({ ...DEFAULT_COHORT, ageMin: 30 }).cohortParams }));
    fireEvent.change(screen.getByLabelText("Minimum age"), { target: { value: "30" } });
    await waitFor(() => expect(screen.getByTestId("feasibility").textContent).toContain("About 200"));
    expect((screen.getByLabelText("Max records") as HTMLInputElement).value).toBe("100");
  });
});
