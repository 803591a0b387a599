// The training child's sandbox. Preferred: bubblewrap (Debian `bubblewrap`) with every namespace
// unshared (no network but its own loopback, own pid namespace and /proc, own mount namespace) and
// a root that holds only read-only system libraries, the Node binary, the runtime files the child
// imports, and an empty tmpfs as /tmp and working directory. The agent home, keys, datasets and the
// host /tmp are simply not in that root. Fallback, only when bwrap is missing AND the operator
// opted in (train.allowUnisolated): util-linux `unshare --net` (network cut, filesystem visible),
// else nothing at all. Without bwrap and without the opt-in, training is refused.
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export type SandboxMode = "bwrap" | "netns-only-operator-opt-in" | "none-operator-opt-out";

export interface SandboxPlan {
  mode: SandboxMode;
  /** argv to run `node <args>` inside the sandbox */
  argv: (nodeArgs: string[]) => string[];
  detail: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (node-agent/src/train -> ../../..). */
const repo = resolve(here, "..", "..", "..");

/** Read-only paths the child needs: runtime code and packages, never data, keys or the agent home. */
export function runtimePaths(): string[] {
  const p = [
    join(repo, "package.json"),
    join(repo, "node_modules"),
    join(repo, "sdk", "package.json"),
    join(repo, "sdk", "src"),
    join(repo, "sdk", "node_modules"),
    join(repo, "node-agent", "package.json"),
    join(repo, "node-agent", "node_modules"),
    here, // node-agent/src/train: the worker and the trainer
  ];
  return p.filter((x) => existsSync(x));
}

export function bwrapArgs(bwrap: string, nodeBin: string, nodeArgs: string[]): string[] {
  const node = realpathSync(nodeBin);
  const ro = (p: string) => ["--ro-bind", p, p];
  return [
    bwrap,
    "--unshare-all", // net, pid, ipc, uts, cgroup, user (where possible): only `lo` inside
    "--die-with-parent",
    "--new-session",
    "--clearenv",
    "--setenv", "PATH", "/usr/bin:/bin",
    "--setenv", "NODE_ENV", "production",
    "--setenv", "HOME", "/tmp",
    ...ro("/usr"),
    "--symlink", "usr/lib", "/lib",
    "--symlink", "usr/lib64", "/lib64",
    "--symlink", "usr/bin", "/bin",
    "--proc", "/proc", // the child's own pid namespace: no other process is visible
    "--dev", "/dev",
    "--tmpfs", "/tmp", // empty, private; the host /tmp is not visible
    ...ro(node),
    ...runtimePaths().flatMap(ro),
    "--chdir", "/tmp",
    node,
    ...nodeArgs,
  ];
}

const works = new Map<string, boolean>();
function runs(argv: string[]): boolean {
  const key = argv.join("\0");
  if (!works.has(key)) works.set(key, spawnSync(argv[0]!, [...argv.slice(1)], { stdio: "ignore", timeout: 10_000 }).status === 0);
  return works.get(key)!;
}

export class SandboxUnavailableError extends Error {
  constructor(bwrap: string) {
    super(
      `training refused: the bubblewrap sandbox (${bwrap}) is not available. Install it (Debian/Ubuntu: apt-get install bubblewrap), ` +
        "or set train.allowUnisolated=true in config.json to accept a weaker fallback (network namespace only, or nothing)",
    );
    this.name = "SandboxUnavailableError";
  }
}

export function planSandbox(allowUnisolated: boolean, opts: { bwrapBin?: string; unshareBin?: string } = {}): SandboxPlan {
  const bwrap = opts.bwrapBin ?? process.env.RAPHA_BWRAP_BIN ?? "/usr/bin/bwrap";
  const unshare = opts.unshareBin ?? process.env.RAPHA_UNSHARE_BIN ?? "unshare";
  if (existsSync(bwrap) && runs(bwrapArgs(bwrap, process.execPath, ["-e", "0"])))
    return { mode: "bwrap", argv: (a) => bwrapArgs(bwrap, process.execPath, a), detail: "bubblewrap: all namespaces unshared, read-only runtime, empty tmpfs, no agent home, keys or datasets" };
  if (!allowUnisolated) throw new SandboxUnavailableError(bwrap);
  for (const prefix of [[unshare, "--net", "--"], [unshare, "--user", "--map-root-user", "--net", "--"]])
    if (runs([...prefix, "true"])) return { mode: "netns-only-operator-opt-in", argv: (a) => [...prefix, process.execPath, ...a], detail: "OPERATOR OPT-IN: bubblewrap missing; network namespace only, the filesystem is visible" };
  return { mode: "none-operator-opt-out", argv: (a) => [process.execPath, ...a], detail: "OPERATOR OPT-OUT: training child runs WITHOUT any sandbox" };
}
