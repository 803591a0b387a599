import { formatUnits } from "viem";

export const USDC_DECIMALS = 6;

export function fmtUsdc(v: bigint | undefined | null): string {
  if (v === undefined || v === null) return "—";
  const s = formatUnits(v, USDC_DECIMALS);
  const [i, f = ""] = s.split(".");
  const frac = (f + "00").slice(0, Math.max(2, f.replace(/0+$/, "").length));
  return `${BigInt(i).toLocaleString("en-US")}.${frac} USDC`;
}

export function shortAddr(a?: string): string {
  return a ? `${a.slice(0, 6)}…${a.slice(-4)}` : "—";
}
export function shortHash(h?: string): string {
  return h ? `${h.slice(0, 10)}…${h.slice(-6)}` : "—";
}

export function fmtTime(sec: bigint | number | undefined): string {
  if (sec === undefined) return "—";
  const d = new Date(Number(sec) * 1000);
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

/** `<input type="datetime-local">` value → unix seconds (local time zone of the browser). */
export function localInputToUnix(v: string): number {
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? Math.floor(t / 1000) : NaN;
}
export function unixToLocalInput(sec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
