// FHIR dates → UTC day numbers and ages. Partial dates (YYYY, YYYY-MM) take their first day.

/** Days since epoch of a FHIR date/dateTime's calendar day, or null when the day does not exist. */
export function dayOf(s: string): number | null {
  const y = Number(s.slice(0, 4));
  const m = s.length >= 7 ? Number(s.slice(5, 7)) : 1;
  const d = s.length >= 10 ? Number(s.slice(8, 10)) : 1;
  if (m < 1 || m > 12 || d < 1) return null;
  const t = Date.UTC(y, m - 1, d);
  const back = new Date(t);
  if (back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return null; // e.g. 2023-02-30
  return Math.floor(t / 86_400_000);
}

/** Instant in ms of a FHIR dateTime (time zone honoured), or null. */
export function instantOf(s: string): number | null {
  if (s.length <= 10) {
    const d = dayOf(s);
    return d === null ? null : d * 86_400_000;
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** Whole years between two day numbers (birthday rule). */
export function yearsBetween(birthDay: number, atDay: number): number {
  const b = new Date(birthDay * 86_400_000);
  const a = new Date(atDay * 86_400_000);
  let age = a.getUTCFullYear() - b.getUTCFullYear();
  if (a.getUTCMonth() < b.getUTCMonth() || (a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() < b.getUTCDate())) age--;
  return age;
}

export const todayDay = (): number => Math.floor(Date.now() / 86_400_000);
