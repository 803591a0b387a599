// file:// bundles, for the operator's own local use only (demo, tests, an air-gapped mirror): the
// real path must lie under a directory the operator listed, be a regular file (no /dev/zero, FIFOs
// or sockets) and fit the size cap; at most cap + 1 bytes are ever read.
import { openSync, fstatSync, readSync, closeSync, realpathSync, constants } from "node:fs";
import { sep } from "node:path";
import { BundleRefused } from "./policy.js";

/** True when `real` is `root` or lies below it (both resolved through symlinks). */
function within(real: string, root: string): boolean {
  let r: string;
  try {
    r = realpathSync(root);
  } catch {
    return false;
  }
  return real === r || real.startsWith(r.endsWith(sep) ? r : r + sep);
}

/**
 * Reads a file:// bundle. `roots` are the operator's allowed directories; `denied` are directories
 * never readable this way even inside an allowed root (the agent home with its keys, the datasets).
 */
export function readBundleFile(path: string, roots: readonly string[], denied: readonly string[], maxBytes: number): Uint8Array {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new BundleRefused("file:// bundle does not exist or is not readable");
  }
  if (!roots.some((r) => within(real, r))) throw new BundleRefused("file:// bundle lies outside the directories listed in fetch.allowFileRoots");
  if (denied.some((d) => within(real, d))) throw new BundleRefused("file:// bundle lies inside the agent home or a dataset directory; refused");
  const fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new BundleRefused("file:// bundle is not a regular file");
    if (st.size > maxBytes) throw new BundleRefused(`bundle exceeds the size cap (${maxBytes} bytes)`);
    const buf = Buffer.alloc(st.size + 1); // one spare byte detects a file that grows while read
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > st.size) throw new BundleRefused("file:// bundle changed while it was read");
    return new Uint8Array(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}
