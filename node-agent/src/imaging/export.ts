// A PACS export folder → patient → study → series → instances. Nested folders, files without an
// extension and an optional DICOMDIR are all normal; every file that cannot be used becomes one
// problem (file and reason) and the walk goes on. Symbolic links are not followed, so the walk
// cannot leave the export. The tree holds header facts only; pixels are decoded when a study is loaded.
import { lstatSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { ProblemLog } from "../data/problems.js";
import { DEFAULT_IMAGING_LIMITS, type ImagingLimits } from "./limits.js";
import { readDicomFile, type DicomInstance } from "./dicom-file.js";

export interface ImagingSeries {
  uid: string;
  modality: string;
  bodyPart?: string;
  /** sorted by InstanceNumber, then file path */
  instances: DicomInstance[];
}

export interface ImagingStudy {
  uid: string;
  date?: string;
  series: ImagingSeries[];
}

export interface ImagingPatient {
  /** PatientID (the PACS's MRN): the input to the pseudonymous id, never output */
  patientId: string;
  studies: ImagingStudy[];
}

export interface ImagingExport {
  root: string;
  patients: ImagingPatient[];
  files: { seen: number; instances: number; dicomdir: number; refused: number; duplicates: number };
  problems: ProblemLog;
}

export interface ReadExportOptions {
  limits?: Partial<ImagingLimits>;
  /** files beside the images that are not DICOM by design (e.g. the label CSV), relative to root; an entry ending in "/" is a folder (e.g. a linked EHR export) */
  ignore?: string[];
  problems?: ProblemLog;
}

function* walk(root: string, limits: ImagingLimits, problems: ProblemLog): Generator<string> {
  const stack: Array<{ dir: string; depth: number }> = [{ dir: root, depth: 0 }];
  while (stack.length) {
    const { dir, depth } = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      problems.warn(relative(root, dir) || ".", 0, "(folder)", "not readable");
      continue;
    }
    for (const name of names.reverse()) {
      const path = join(dir, name);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st || st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if (depth + 1 > limits.maxFolderDepth) problems.warn(relative(root, path), 0, "(folder)", `nested deeper than ${limits.maxFolderDepth} folders (skipped)`);
        else stack.push({ dir: path, depth: depth + 1 });
      } else if (st.isFile()) yield path;
    }
  }
}

/** Reads every file under `root` (sorted, deterministic) and groups the image instances. */
export function readImagingExport(root: string, opts: ReadExportOptions = {}): ImagingExport {
  const limits = { ...DEFAULT_IMAGING_LIMITS, ...opts.limits };
  const problems = opts.problems ?? new ProblemLog();
  const ignore = new Set(opts.ignore ?? []);
  const ignoreDirs = (opts.ignore ?? []).filter((f) => f.endsWith("/"));
  const files = { seen: 0, instances: 0, dicomdir: 0, refused: 0, duplicates: 0 };
  const patients = new Map<string, Map<string, Map<string, DicomInstance[]>>>();
  const sopSeen = new Set<string>();
  for (const path of walk(root, limits, problems)) {
    const rel = relative(root, path);
    if (ignore.has(rel) || ignoreDirs.some((d) => rel.startsWith(d))) continue;
    if (++files.seen > limits.maxFiles) {
      problems.warn(rel, 0, "(folder)", `export holds more than ${limits.maxFiles} files: the rest were not read`);
      break;
    }
    const r = readDicomFile(path, rel, limits);
    if (r.kind === "dicomdir") {
      files.dicomdir++;
      continue;
    }
    if (r.kind === "problem") {
      files.refused++;
      problems.warn(rel, 0, r.field, r.reason);
      continue;
    }
    // the same instance exported twice (e.g. under two folder layouts) counts once
    const sop = r.dataSet.string("x00080018") ?? `${rel}`;
    if (sopSeen.has(sop)) {
      files.duplicates++;
      problems.warn(rel, 0, "(0008,0018) SOPInstanceUID", "duplicate of an instance already read (skipped)");
      continue;
    }
    sopSeen.add(sop);
    files.instances++;
    const i = r.instance;
    const studies = patients.get(i.patientId) ?? new Map<string, Map<string, DicomInstance[]>>();
    patients.set(i.patientId, studies);
    const series = studies.get(i.studyUid) ?? new Map<string, DicomInstance[]>();
    studies.set(i.studyUid, series);
    const list = series.get(i.seriesUid) ?? [];
    series.set(i.seriesUid, list);
    list.push(i);
  }
  const byKey = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    root,
    files,
    problems,
    patients: byKey(patients).map(([patientId, studies]) => ({
      patientId,
      studies: byKey(studies).map(([uid, series]) => {
        const all = [...series.values()].flat();
        return {
          uid,
          date: all.find((x) => x.studyDate)?.studyDate,
          series: byKey(series).map(([suid, inst]) => ({
            uid: suid,
            modality: inst[0]!.modality,
            bodyPart: inst.find((x) => x.bodyPart)?.bodyPart,
            instances: inst.sort((a, b) => a.instanceNumber - b.instanceNumber || (a.file < b.file ? -1 : 1)),
          })),
        };
      }),
    })),
  };
}
