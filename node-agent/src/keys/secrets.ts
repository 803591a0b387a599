// Every secret the agent loads is noted here, so the last line of defence (the log stream and every
// error text, see log.ts and chain/retry.ts shortError) can scrub it whatever path it took to get there.
const noted = new Set<string>();

/** Remembers a secret value (and its usual spellings) for scrub(). */
export function noteSecret(value: string): void {
  const v = value.trim();
  if (v.length < 8) return; // too short to be a key; scrubbing it would mangle ordinary text
  const bare = v.replace(/^0x/i, "");
  for (const s of [v, bare, bare.toLowerCase(), bare.toUpperCase()]) if (s.length >= 8) noted.add(s);
  if (/^[0-9a-f]+$/i.test(bare)) {
    noted.add(BigInt(`0x${bare}`).toString()); // decimal, as a field element would print
    noted.add(Buffer.from(bare.length % 2 ? `0${bare}` : bare, "hex").toString("base64").replace(/=+$/, ""));
  }
}

/** `text` with every noted secret replaced by [redacted]. */
export function scrub(text: string): string {
  let out = text;
  for (const s of noted) if (out.includes(s)) out = out.split(s).join("[redacted]");
  return out;
}
