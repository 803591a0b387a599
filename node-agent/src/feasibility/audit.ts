// The differencing defence. Two cohorts whose eligible sets differ by fewer than k records would,
// answered separately, let their difference single out patients. So every fresh answer becomes an
// anchor, and a later cohort within k-1 records of an anchor (|A Δ B| < k) gets that anchor's
// answer, never one of its own: the difference of any two released answers covers at least k
// records (anchors are pairwise >= k apart). Anchors are kept per dataset, for every client together
// (an attacker may use many clients), and persisted so a restart does not reset them.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Members } from "./members.js";
import type { Released } from "./release.js";

export interface Anchor {
  cohortParams: string;
  members: Members;
  released: Released;
}

export class DifferencingAudit {
  private anchors: Anchor[] = [];
  constructor(readonly k: number, readonly maxAnchors: number) {}

  get size(): number {
    return this.anchors.length;
  }
  /** No fresh answer may be added (this dataset's answer budget is spent). */
  get full(): boolean {
    return this.anchors.length >= this.maxAnchors;
  }

  /** The closest anchor whose set differs from `m` by fewer than k records, if any. */
  near(m: Members): Anchor | undefined {
    let best: Anchor | undefined;
    let bestD = this.k;
    for (const a of this.anchors) {
      const d = a.members.distance(m, bestD);
      if (d < bestD) {
        best = a;
        bestD = d;
      }
    }
    return best;
  }

  /** What the anchors released, oldest first (to rebuild them on reloaded records). */
  entries(): { cohortParams: string; released: Released }[] {
    return this.anchors.map((a) => ({ cohortParams: a.cohortParams, released: a.released }));
  }

  add(a: Anchor): void {
    this.anchors.push(a);
  }
}

/** Anchors on disk: one JSON line per fresh answer ({cohortParams, released}); sets are recomputed on load. */
export class AnchorLog {
  constructor(readonly path: string) {}

  read(): { cohortParams: string; released: Released }[] {
    if (!existsSync(this.path)) return [];
    const out: { cohortParams: string; released: Released }[] = [];
    for (const line of readFileSync(this.path, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const j = JSON.parse(line) as { cohortParams: string; released: Released };
        if (typeof j.cohortParams === "string" && j.released && typeof j.released.value === "number") out.push(j);
      } catch {
        /* a torn last line (crash mid-write): skip it */
      }
    }
    return out;
  }

  append(cohortParams: string, released: Released): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path, JSON.stringify({ cohortParams, released }) + "\n", { mode: 0o600 });
  }
}
