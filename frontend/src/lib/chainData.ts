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
  /** the root a job created now pins (JobSpec.datasetRoot) */
  root: bigint;
  schemaHash: `0x${string}`;
  profileURI: string;
  profile: DatasetProfile | null;
  attestationType: number;
  nodeActive: boolean;
  /** governance froze the node: its unsettled jobs pay it nothing */
  nodeFrozen: boolean;
  /** governance verified the node's quote and approved its enclave key */
  bindingApproved: boolean;
  /** keccak256 of the node's attestation quote, and where the quote is published */
  quoteHash: `0x${string}`;
  quoteURI: string;
  nodeMetadataURI: string;
  nodeMetadata: Record<string, unknown> | null;
}

/**
 * Every dataset in NodeRegistry (ids 1..nextDatasetId-1), with its node and resolved public profile.
 * URIs are event-only in v2: the latest DatasetRegistered / NodeRegistered event carries them.
 */
export async function fetchDatasets(pc: PublicClient, d: ChainDeployment): Promise<DatasetRow[]> {
  const reg = d.contracts.nodeRegistry;
  const fromBlock = BigInt(d.startBlock ?? 0);
  const [next, dsEvents, nodeEvents] = await Promise.all([
    pc.readContract({ address: reg, abi: nodeRegistryAbi, functionName: "nextDatasetId" }),
    pc.getContractEvents({ address: reg, abi: nodeRegistryAbi, eventName: "DatasetRegistered", fromBlock, strict: true }),
    pc.getContractEvents({ address: reg, abi: nodeRegistryAbi, eventName: "NodeRegistered", fromBlock, strict: true }),
  ]);
  const profileURI = new Map(dsEvents.map((e) => [e.args.datasetId, e.args.profileURI])); // later events overwrite earlier
  const nodeURIs = new Map(nodeEvents.map((e) => [e.args.operator.toLowerCase(), { metadataURI: e.args.metadataURI, quoteURI: e.args.quoteURI }]));
  const ids = Array.from({ length: Number(next - 1n) }, (_, i) => BigInt(i + 1));
  const rows = await Promise.all(ids.map((id) => pc.readContract({ address: reg, abi: nodeRegistryAbi, functionName: "getDataset", args: [id] })));
  const nodes = new Map<string, Awaited<ReturnType<typeof readNode>>>();
  const readNode = (n: Address) => pc.readContract({ address: reg, abi: nodeRegistryAbi, functionName: "getNode", args: [n] });
  await Promise.all([...new Set(rows.map((r) => r.node))].map(async (n) => nodes.set(n, await readNode(n))));
  return Promise.all(
    rows.map(async (r, i) => {
      const n = nodes.get(r.node)!;
      const uris = nodeURIs.get(r.node.toLowerCase()) ?? { metadataURI: "", quoteURI: "" };
      const pURI = profileURI.get(ids[i]) ?? "";
      const [profile, nodeMetadata] = await Promise.all([loadJsonUri(pURI), loadJsonUri(uris.metadataURI)]);
      return {
        id: ids[i], node: r.node, recordCount: BigInt(r.recordCount), active: r.active, priceFloor: BigInt(r.priceFloor), root: BigInt(r.root),
        schemaHash: r.schemaHash, profileURI: pURI, profile: profile as DatasetProfile | null,
        attestationType: Number(n.attestationType), nodeActive: n.active, nodeFrozen: n.frozen, bindingApproved: n.bindingApproved,
        quoteHash: n.quoteHash, quoteURI: uris.quoteURI, nodeMetadataURI: uris.metadataURI, nodeMetadata,
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
