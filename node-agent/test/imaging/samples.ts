// The real scanner images (../shared/samples/dicom: CT and MR, pydicom test files, MIT): beside the
// clone in CI, at /work/shared on a developer's machine.
import { existsSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const DICOM_SAMPLES = [join(ROOT, "../shared/samples/dicom"), "/work/shared/samples/dicom"].find((p) => existsSync(join(p, "CT_small.dcm"))) ?? "/work/shared/samples/dicom";
