import { useQuery } from "@tanstack/react-query";
import { usePublicClient } from "wagmi";
import { pad, parseEventLogs, toHex, type Address, type PublicClient } from "viem";
import { jobRegistryAbi, nodeRegistryAbi } from "./contracts";
import { useDeployment } from "./rapha";
import type { ChainDeployment } from "./config";
import type { ChainEvent } from "./timeline";
import { loadJsonUri, type DatasetProfile } from "./profile";

export interface DatasetRow {
  id: bigint;
  node: Address;
  recordCount: bigint;
  active: boolean;
  priceFloor: bigint;
  root: bigint;
  schemaHash: `0x${string}`;
  profileURI: string;
  profile: DatasetProfile | null;
  attestationType: number;
  nodeActive: boolean;
  nodeMetadataURI: string;
  nodeMetadata: Record<string, unknown> | null;
}

/** Every dataset in NodeRegistry (ids 1..nextDatasetId-1), with its node and resolved public profile. */
export async function fetchDatasets(pc: PublicClient, d: ChainDeployment): Promise<DatasetRow[]> {
  const reg = d.contracts.nodeRegistry;
  const next = (await pc.readContract({ address: reg, abi: nodeRegistryAbi, functionName: "nextDatasetId" })) as bigint;
  const ids = Array.from({ length: Number(next - 1n) }, (_, i) => BigInt(i + 1));
  const rows = await Promise.all(ids.map((id) => pc.readContract({ address: reg, abi: nodeRegistryAbi, functionName: "getDataset", args: [id] })));
  const nodes = new Map<string, { attestationType: number; active: boolean; metadataURI: string }>();
  await Promise.all(
    [...new Set(rows.map((r) => (r as { node: Address }).node))].map(async (n) => {
      const x = (await pc.readContract({ address: reg, abi: nodeRegistryAbi, functionName: "getNode", args: [n] })) as {
        attestationType: number; active: boolean; metadataURI: string;
      };
      nodes.set(n, { attestationType: Number(x.attestationType), active: x.active, metadataURI: x.metadataURI });
    }),
  );
  return Promise.all(
    rows.map(async (r0, i) => {
      const r = r0 as { node: Address; recordCount: bigint; active: boolean; priceFloor: bigint; root: bigint; schemaHash: `0x${string}`; profileURI: string };
      const n = nodes.get(r.node)!;
      const [profile, nodeMetadata] = await Promise.all([loadJsonUri(r.profileURI), loadJsonUri(n.metadataURI)]);
      return {
        id: ids[i], node: r.node, recordCount: BigInt(r.recordCount), active: r.active, priceFloor: BigInt(r.priceFloor), root: BigInt(r.root),
        schemaHash: r.schemaHash, profileURI: r.profileURI, profile: profile as DatasetProfile | null,
        attestationType: n.attestationType, nodeActive: n.active, nodeMetadataURI: n.metadataURI, nodeMetadata,
      };
    }),
  );
}

export function useDatasets() {
  const { chainId, d } = useDeployment();
  const pc = usePublicClient({ chainId });
  return useQuery({
    queryKey: ["datasets", chainId, d.contracts.nodeRegistry],
    queryFn: () => fetchDatasets(pc as PublicClient, d),
    enabled: !!pc,
    refetchInterval: 15_000,
  });
}

export type JobEventFilter = { researcher: Address } | { node: Address } | { jobId: bigint };

/**
 * JobRegistry events for a researcher, a node or one job. Every JobRegistry event indexes
 * (jobId, researcher, node) in that order, so one topic filter gets a whole story.
 */
export async function fetchJobEvents(pc: PublicClient, d: ChainDeployment, f: JobEventFilter): Promise<(ChainEvent & { jobId: bigint })[]> {
  const t = (x: `0x${string}` | bigint) => (typeof x === "bigint" ? pad(toHex(x), { size: 32 }) : pad(x.toLowerCase() as `0x${string}`, { size: 32 }));
  const topics: (`0x${string}` | null)[] =
    "jobId" in f ? [null, t(f.jobId)] : "researcher" in f ? [null, null, t(f.researcher)] : [null, null, null, t(f.node)];
  const logs = await pc.request({
    method: "eth_getLogs",
    params: [{ address: d.contracts.jobRegistry, topics: topics as never, fromBlock: toHex(BigInt(d.startBlock ?? 0)), toBlock: "latest" }],
  });
  const parsed = parseEventLogs({ abi: jobRegistryAbi, logs: logs as never, strict: false });
  return parsed.map((l) => {
    // JobCreated carries the researcher's JobSpec as a tuple: flatten it so every event reads alike
    const raw = (l.args ?? {}) as Record<string, unknown>;
    const args = { ...((raw.spec as Record<string, unknown>) ?? {}), ...raw };
    return {
      eventName: l.eventName as string, args, blockNumber: l.blockNumber, transactionHash: l.transactionHash, logIndex: l.logIndex,
      address: l.address, jobId: BigInt(args.jobId as bigint),
    };
  });
}

export function groupByJob<T extends { jobId: bigint }>(evs: T[]): Map<bigint, T[]> {
  const m = new Map<bigint, T[]>();
  for (const e of evs) {
    const l = m.get(e.jobId) ?? [];
    l.push(e);
    m.set(e.jobId, l);
  }
  return m;
}

export function useJobEvents(f: JobEventFilter | null, key: string) {
  const { chainId, d } = useDeployment();
  const pc = usePublicClient({ chainId });
  return useQuery({
    queryKey: ["jobEvents", chainId, key],
    queryFn: () => fetchJobEvents(pc as PublicClient, d, f!),
    enabled: !!pc && !!f,
    refetchInterval: 3_000,
  });
}
