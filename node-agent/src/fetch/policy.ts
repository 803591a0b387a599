// Which bundle locations the agent will open. The job's modelURI is attacker-chosen (anyone can
// create a job), so from the chain only https:// and ipfs:// (through the operator's gateway) are
// accepted; plain http and private hosts only for origins the operator lists in its own config
// (fetch.allowInsecureOrigins), file:// only under directories the operator lists (fetch.allowFileRoots).

/** The operator's fetch settings (config.json "fetch"). */
export interface FetchPolicy {
  ipfsGateway: string;
  /** origins such as "http://127.0.0.1:8080" (or "http://127.0.0.1" = any port) trusted for plain http and private addresses */
  allowInsecureOrigins: readonly string[];
  /** absolute directories whose files may be named by file:// URIs */
  allowFileRoots: readonly string[];
}

/** A permanent refusal: the URI (or where it led) is not allowed. The job is rejected with SCAN_FAILED. */
export class BundleRefused extends Error {
  override name = "BundleRefused";
}

/** A transient failure (timeout, HTTP error, connection refused): retried, then rejected. */
export class BundleFetchError extends Error {
  override name = "BundleFetchError";
}

export type Target = { kind: "file"; path: string } | { kind: "http"; url: URL; trusted: boolean };

/** True when the operator listed this URL's origin (scheme + host, and port unless the entry has none). */
export function isTrustedOrigin(url: URL, allow: readonly string[]): boolean {
  return allow.some((entry) => {
    const o = new URL(entry);
    return o.protocol === url.protocol && o.hostname === url.hostname && (o.port === "" || o.port === url.port);
  });
}

/** Only the scheme and host of a URL: what error messages may show (paths and queries can carry tokens). */
export const describe = (u: URL): string => `${u.protocol}//${u.host}`;

function httpTarget(url: URL, p: FetchPolicy, what: string): Target {
  if (url.username || url.password) throw new BundleRefused(`${what} carries credentials (user:password@); refused`);
  const trusted = isTrustedOrigin(url, p.allowInsecureOrigins);
  if (url.protocol === "http:" && !trusted) throw new BundleRefused(`${what} uses plain http (${describe(url)}); only https:// and ipfs:// are accepted unless the operator lists the origin in fetch.allowInsecureOrigins`);
  return { kind: "http", url, trusted };
}

/** Maps the job's modelURI to what the fetcher may open, or throws BundleRefused with the reason. */
export function targetOf(uri: string, p: FetchPolicy): Target {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new BundleRefused("modelURI is not an absolute URI");
  }
  switch (url.protocol) {
    case "https:":
    case "http:":
      return httpTarget(url, p, "modelURI");
    case "ipfs:": {
      // ipfs://<cid>[/path]: the CID and path segments only, so the job cannot steer the gateway URL
      const rest = uri.slice("ipfs://".length);
      if (!/^[A-Za-z0-9]{10,100}(\/[A-Za-z0-9._-]+)*$/.test(rest) || rest.split("/").some((s) => s === "." || s === "..")) throw new BundleRefused("ipfs:// URI must be ipfs://<cid>[/<path>] (letters, digits, . _ -)");
      const gw = new URL(p.ipfsGateway);
      if (gw.protocol !== "https:" && !(gw.protocol === "http:" && isTrustedOrigin(gw, p.allowInsecureOrigins))) throw new BundleRefused(`the configured ipfs gateway (${describe(gw)}) is not https; list its origin in fetch.allowInsecureOrigins to use it`);
      return httpTarget(new URL(rest, gw.href.endsWith("/") ? gw.href : gw.href + "/"), p, "ipfs gateway URL");
    }
    case "file:": {
      if (p.allowFileRoots.length === 0) throw new BundleRefused("file:// bundle URIs are refused (the operator allows them only for directories listed in fetch.allowFileRoots)");
      if (url.host !== "") throw new BundleRefused("file:// URI names a remote host");
      return { kind: "file", path: decodeURIComponent(url.pathname) };
    }
    default:
      throw new BundleRefused(`modelURI scheme ${url.protocol} is not accepted (https:// or ipfs:// only)`);
  }
}

/** A redirect target: same rules as a job's URI, except that it can never lead to a file. */
export function redirectTarget(location: string, from: URL, p: FetchPolicy): Target {
  let url: URL;
  try {
    url = new URL(location, from);
  } catch {
    throw new BundleRefused(`redirect from ${describe(from)} has an invalid Location`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new BundleRefused(`redirect from ${describe(from)} to a ${url.protocol} URI refused`);
  return httpTarget(url, p, `redirect from ${describe(from)}`);
}
