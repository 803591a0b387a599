// Labels for imaging jobs, one per study:
//  - a CSV the hospital keeps beside the images: columns study_uid,label (label 0/1, true/false, yes/no);
//  - a linked FHIR export: a study is positive when its patient has a Condition with one of the
//    job's codes. The join is on the pseudonymous id both datasets derive from the MRN, so nothing
//    but study UIDs (in memory) and pseudonymous ids ever meets the label.
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { z } from "zod";
import type { ProblemLog } from "../data/problems.js";

/** StudyInstanceUID → label (in memory only). */
export type StudyLabels = Map<string, 0 | 1>;

const LABEL_VALUES: Record<string, 0 | 1> = { "1": 1, "0": 0, true: 1, false: 0, yes: 1, no: 0, positive: 1, negative: 0 };
const Row = z.object({ study_uid: z.string().regex(/^[0-9.]{1,64}$/, "expected a DICOM UID (digits and dots)"), label: z.string() });

/** Reads study labels from CSV. Bad rows are problems (file, line, column); the rest are used. */
export function readStudyLabelsCsv(path: string, name: string, problems: ProblemLog): StudyLabels {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(`imaging labels ${name}: not readable`);
  }
  let rows: Array<Record<string, string>>;
  try {
    rows = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true });
  } catch (e) {
    const line = (e as { lines?: number }).lines ?? 0;
    throw new Error(`imaging labels ${name}:${line}: not valid CSV`);
  }
  const first = rows[0];
  if (first && (!("study_uid" in first) || !("label" in first))) throw new Error(`imaging labels ${name}:1: expected the columns study_uid and label`);
  const out: StudyLabels = new Map();
  rows.forEach((raw, i) => {
    const line = i + 2; // header is line 1
    const r = Row.safeParse(raw);
    if (!r.success) {
      problems.warn(name, line, r.error.issues[0]!.path.join(".") || "(line)", r.error.issues[0]!.message);
      return;
    }
    const label = LABEL_VALUES[r.data.label.toLowerCase()];
    if (label === undefined) {
      problems.warn(name, line, "label", "expected 0/1, true/false, yes/no or positive/negative");
      return;
    }
    if (out.has(r.data.study_uid) && out.get(r.data.study_uid) !== label) {
      problems.warn(name, line, "study_uid", "labelled twice with different labels (study left unlabelled)");
      out.delete(r.data.study_uid);
      return;
    }
    out.set(r.data.study_uid, label);
  });
  return out;
}

/**
 * Labels from a linked FHIR export. `positivePids` are the pseudonymous ids (derived from the EHR
 * export's MRNs with the same hospital secret) of patients with a matching Condition; every study of
 * a patient whose id is in the set is positive, every other study of a patient known to the export
 * (`knownPids`) negative, and studies of patients the export lacks stay unlabelled.
 */
export function labelsFromLinkedEhr(studiesByPid: ReadonlyMap<number, readonly string[]>, knownPids: ReadonlySet<number>, positivePids: ReadonlySet<number>): StudyLabels {
  const out: StudyLabels = new Map();
  for (const [pid, studies] of studiesByPid) {
    if (!knownPids.has(pid)) continue;
    for (const uid of studies) out.set(uid, positivePids.has(pid) ? 1 : 0);
  }
  return out;
}
