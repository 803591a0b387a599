// The bundle fetcher: the only code that opens a job's modelURI. Rules in policy.ts (schemes and
// operator allowlists), address.ts (public addresses only), http.ts (pinned connection, size cap),
// file.ts (operator-listed directories). Redirects are followed here, by hand, each one re-checked.
import { readBundleFile } from "./file.js";
import { getOnce, vetHost, systemResolver, type Resolver } from "./http.js";
import { BundleFetchError, BundleRefused, describe, redirectTarget, targetOf, type FetchPolicy, type Target } from "./policy.js";

export { BundleFetchError, BundleRefused, type FetchPolicy } from "./policy.js";
export { isPublicAddress } from "./address.js";
export type { Resolver } from "./http.js";

export interface FetchOptions extends FetchPolicy {
  maxBytes: number;
  /** bounds the whole fetch: DNS, every redirect, headers and body */
  timeoutMs: number;
  maxRedirects?: number;
  resolve?: Resolver;
  /** directories a file:// URI may never reach, even inside an allowed root (agent home, datasets) */
  deniedFileRoots?: readonly string[];
}

/** `p`, or the signal's reason if it fires first (DNS lookups cannot be cancelled, only abandoned). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export async function fetchBundle(uri: string, o: FetchOptions): Promise<Uint8Array> {
  let t: Target = targetOf(uri, o);
  if (t.kind === "file") return readBundleFile(t.path, o.allowFileRoots, o.deniedFileRoots ?? [], o.maxBytes);
  const signal = AbortSignal.timeout(o.timeoutMs);
  const maxRedirects = o.maxRedirects ?? 3;
  const first = t.url;
  try {
    for (let hops = 0; ; hops++) {
      if (t.kind !== "http") throw new BundleRefused("redirect to a file refused");
      const pinned = await untilAborted(vetHost(t.url, t.trusted, o.resolve ?? systemResolver), signal);
      const r = await getOnce(t.url, pinned, o.maxBytes, signal);
      if (r.kind === "body") return r.bytes;
      if (hops >= maxRedirects) throw new BundleRefused(`more than ${maxRedirects} redirects from ${describe(first)}; refused`);
      t = redirectTarget(r.location, t.url, o);
    }
  } catch (e) {
    if (e instanceof BundleRefused || e instanceof BundleFetchError) throw e;
    const name = (e as { name?: string }).name;
    if (signal.aborted || name === "TimeoutError" || name === "AbortError") throw new BundleFetchError(`bundle fetch timed out after ${o.timeoutMs} ms (${describe(first)})`);
    const code = (e as { code?: string }).code;
    throw new BundleFetchError(`bundle fetch failed (${describe(first)})${code ? `: ${code}` : ""}`);
  }
}
