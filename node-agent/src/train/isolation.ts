// Network isolation for the training child: a fresh network namespace via util-linux `unshare`.
// As root: `unshare --net`; otherwise try an unprivileged user namespace (`unshare -r --net`).
import { spawnSync } from "node:child_process";

export type IsolationMode = "netns" | "userns+netns" | "none-operator-opt-out";

export interface IsolationPlan {
  mode: IsolationMode;
  /** command prefix to run the child under, e.g. ["unshare", "--net", "--"] */
  prefix: string[];
  detail: string;
}

const cache = new Map<string, { mode: IsolationMode; prefix: string[] } | null>();

export function detectIsolation(unshareBin = "unshare"): { mode: IsolationMode; prefix: string[] } | null {
  if (cache.has(unshareBin)) return cache.get(unshareBin)!;
  const tries: { mode: IsolationMode; prefix: string[] }[] = [
    { mode: "netns", prefix: [unshareBin, "--net", "--"] },
    { mode: "userns+netns", prefix: [unshareBin, "--user", "--map-root-user", "--net", "--"] },
  ];
  let cached: { mode: IsolationMode; prefix: string[] } | null = null;
  for (const t of tries) {
    const r = spawnSync(t.prefix[0]!, [...t.prefix.slice(1), "true"], { stdio: "ignore", timeout: 5000 });
    if (r.status === 0) {
      cached = t;
      break;
    }
  }
  cache.set(unshareBin, cached);
  return cached;
}

export class IsolationUnavailableError extends Error {
  constructor() {
    super("training refused: no network namespace available (unshare failed) and the operator has not set train.allowUnisolated=true");
    this.name = "IsolationUnavailableError";
  }
}

export function planIsolation(allowUnisolated: boolean, unshareBin = process.env.RAPHA_UNSHARE_BIN ?? "unshare"): IsolationPlan {
  const d = detectIsolation(unshareBin);
  if (d) return { ...d, detail: `child runs in its own network namespace (${d.prefix.slice(0, -1).join(" ")})` };
  if (!allowUnisolated) throw new IsolationUnavailableError();
  return { mode: "none-operator-opt-out", prefix: [], detail: "OPERATOR OPT-OUT: training child runs WITHOUT network isolation" };
}
