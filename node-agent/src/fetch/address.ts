// Which IP addresses a bundle fetch may connect to: public unicast only. Built on node's net.BlockList
// (a maintained parser: it also matches IPv4-mapped IPv6 such as ::ffff:127.0.0.1 against IPv4 rules).
import { BlockList, isIP } from "node:net";

/** IPv4 ranges that are not public unicast (RFC 6890 special-purpose registry and multicast). */
const V4: [string, number][] = [
  ["0.0.0.0", 8], // "this network", incl. the unspecified 0.0.0.0
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT shared address space
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata services live here)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved + broadcast
];

/** IPv6 ranges that are not public unicast. */
const V6: [string, number][] = [
  ["::", 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ["64:ff9b:1::", 48], // local-use NAT64 (RFC 8215)
  ["100::", 64], // discard-only
  ["2001::", 32], // Teredo (embeds an obfuscated IPv4)
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // deprecated site-local
  ["ff00::", 8], // multicast
];

/** The IPv6 spelling of an IPv4 address placed after `prefix` (e.g. 64:ff9b:: + 10.0.0.1 = 64:ff9b::a00:1). */
function embed(prefix: string, v4: string): string {
  const [a, b, c, d] = v4.split(".").map(Number) as [number, number, number, number];
  return `${prefix}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

const blocked = new BlockList();
for (const [a, n] of V4) {
  blocked.addSubnet(a, n, "ipv4"); // also covers ::ffff:a.b.c.d (IPv4-mapped)
  blocked.addSubnet(embed("64:ff9b::", a), 96 + n, "ipv6"); // NAT64 well-known prefix (RFC 6052)
  const [x, y, z, w] = a.split(".").map(Number) as [number, number, number, number];
  blocked.addSubnet(`2002:${((x << 8) | y).toString(16)}:${((z << 8) | w).toString(16)}::`, 16 + n, "ipv6"); // 6to4
}
for (const [a, n] of V6) blocked.addSubnet(a, n, "ipv6");

/** True only for a syntactically valid, public unicast IP address. */
export function isPublicAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 0) return false;
  return !blocked.check(ip, v === 4 ? "ipv4" : "ipv6");
}
