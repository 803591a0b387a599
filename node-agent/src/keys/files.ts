// Key material on disk is readable by the agent's own user only: a key file (or keystore password
// file) that the group or others can read, or that another user owns, stops the agent with the
// exact command that fixes it. Messages name the file, never its content.
import { readFileSync, statSync, openSync, closeSync, fstatSync, constants } from "node:fs";

/** Key material cannot be used as it is; the message says what to do. */
export class KeyFileError extends Error {
  override name = "KeyFileError";
}

/** Throws KeyFileError unless `path` is a regular file owned by this user with no group/other bits. */
export function checkPrivateFile(path: string, what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new KeyFileError(`${what} ${path} does not exist or cannot be read`);
  }
  if (!st.isFile()) throw new KeyFileError(`${what} ${path} is not a regular file`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new KeyFileError(`${what} ${path} is owned by uid ${st.uid}, not by the agent's user (uid ${uid}); fix: chown ${uid} ${path} && chmod 600 ${path}`);
  if ((st.mode & 0o077) !== 0) throw new KeyFileError(`${what} ${path} is readable or writable by group/others (mode ${(st.mode & 0o777).toString(8)}); fix: chmod 600 ${path}`);
}

/** Reads a private file after checkPrivateFile (O_NOFOLLOW: the checked file is the one read). */
export function readPrivateFile(path: string, what: string): string {
  checkPrivateFile(path, what);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if ((fstatSync(fd).mode & 0o077) !== 0) throw new KeyFileError(`${what} ${path} changed while it was read; fix: chmod 600 ${path}`);
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}
