// One HTTP(S) GET to an address vetted before connecting: the host name is resolved once here, every
// answer must be public unicast (unless the operator trusts the origin), and the socket connects to
// exactly that address (the request's lookup returns it), so a second DNS answer cannot swap in a
// private address (no time-of-check/time-of-use gap). No cookies, no credentials, no redirects here.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { isPublicAddress } from "./address.js";
import { BundleFetchError, BundleRefused, describe } from "./policy.js";

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** DNS resolution (tests inject one that maps a public-looking name to a private address). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;
export const systemResolver: Resolver = (h) => dnsLookup(h, { all: true, verbatim: true });

export type Response = { kind: "redirect"; location: string } | { kind: "body"; bytes: Uint8Array };

/** Resolves `url`'s host and returns the one address to connect to, or refuses. */
export async function vetHost(url: URL, trusted: boolean, resolve: Resolver): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[|\]$/g, ""); // IPv6 literals come bracketed
  const literal = isIP(host);
  let addrs: ResolvedAddress[];
  if (literal) addrs = [{ address: host, family: literal }];
  else {
    try {
      addrs = await resolve(host);
    } catch {
      throw new BundleFetchError(`bundle host ${describe(url)} did not resolve`);
    }
  }
  if (addrs.length === 0) throw new BundleFetchError(`bundle host ${describe(url)} did not resolve`);
  // every answer must be public: a name that also resolves privately is refused outright
  if (!trusted && addrs.some((a) => !isPublicAddress(a.address))) throw new BundleRefused(`bundle host ${describe(url)} resolves to a private, loopback, link-local or otherwise non-public address; refused`);
  return addrs[0]!;
}

/** GET `url` at `pinned`; reads at most `maxBytes`; aborts when `signal` fires. */
export function getOnce(url: URL, pinned: ResolvedAddress, maxBytes: number, signal: AbortSignal): Promise<Response> {
  const lookup: LookupFunction = (_h, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  };
  const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
    method: "GET",
    lookup,
    agent: false, // a fresh socket: nothing shared with other requests
    headers: { accept: "application/json, application/octet-stream", "user-agent": "rapha-node" },
    signal,
  });
  return new Promise<Response>((resolve, reject) => {
    const fail = (e: unknown) => reject(e);
    // the whole-fetch deadline also ends a body that trickles in (slow loris)
    const onAbort = () => {
      req.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    req.on("close", () => signal.removeEventListener("abort", onAbort));
    req.on("error", fail);
    req.on("response", (res: IncomingMessage) => {
      res.on("error", fail);
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status)) {
        res.resume();
        const loc = res.headers.location;
        if (!loc) return reject(new BundleFetchError(`bundle host ${describe(url)} answered HTTP ${status} without a Location`));
        return resolve({ kind: "redirect", location: loc });
      }
      if (status < 200 || status > 299) {
        res.resume();
        return reject(new BundleFetchError(`bundle fetch failed: HTTP ${status} from ${describe(url)}`));
      }
      const declared = Number(res.headers["content-length"] ?? NaN);
      if (declared > maxBytes) {
        res.destroy();
        return reject(new BundleRefused(`bundle exceeds the size cap (${maxBytes} bytes; Content-Length says ${declared})`));
      }
      const chunks: Buffer[] = [];
      let n = 0;
      res.on("data", (c: Buffer) => {
        n += c.length;
        if (n > maxBytes) {
          res.destroy();
          return reject(new BundleRefused(`bundle exceeds the size cap (${maxBytes} bytes)`));
        }
        chunks.push(c);
      });
      res.on("end", () => resolve({ kind: "body", bytes: new Uint8Array(Buffer.concat(chunks)) }));
      res.on("close", () => {
        if (!res.complete) reject(new BundleFetchError(`bundle host ${describe(url)} closed the connection early`));
      });
    });
    req.end();
  });
}
