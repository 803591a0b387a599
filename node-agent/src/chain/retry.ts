import { scrub } from "../keys/secrets.js";

export async function retry<T>(fn: () => Promise<T>, o: { attempts?: number; baseMs?: number; maxMs?: number; onError?: (e: unknown, i: number) => void } = {}): Promise<T> {
  const attempts = o.attempts ?? 5;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      o.onError?.(e, i);
      if (i < attempts - 1) await sleep(Math.min(o.maxMs ?? 10_000, (o.baseMs ?? 250) * 2 ** i));
    }
  }
  throw last;
}
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** First line of an error's message, at most 300 characters, with every loaded secret scrubbed. */
export const shortError = (e: unknown): string => {
  const x = e as { shortMessage?: string; message?: string };
  return scrub(x?.shortMessage ?? x?.message ?? String(e)).split("\n")[0]!.slice(0, 300);
};
