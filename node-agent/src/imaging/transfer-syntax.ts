// Which transfer syntaxes the reader decodes, and with what. A syntax not listed here is refused per
// file with its name, never guessed at.
export type TransferSyntax =
  | { uid: string; name: string; kind: "native"; bigEndian: boolean }
  | { uid: string; name: string; kind: "rle" }
  | { uid: string; name: string; kind: "jpeg-baseline" | "jpeg-ls" | "jpeg-2000" }
  | { uid: string; name: string; kind: "unsupported"; reason: string };

type Entry = TransferSyntax extends infer T ? (T extends TransferSyntax ? Omit<T, "uid"> : never) : never;

const TABLE: Record<string, Entry> = {
  "1.2.840.10008.1.2": { name: "Implicit VR Little Endian", kind: "native", bigEndian: false },
  "1.2.840.10008.1.2.1": { name: "Explicit VR Little Endian", kind: "native", bigEndian: false },
  "1.2.840.10008.1.2.1.99": { name: "Deflated Explicit VR Little Endian", kind: "native", bigEndian: false },
  "1.2.840.10008.1.2.2": { name: "Explicit VR Big Endian", kind: "native", bigEndian: true },
  "1.2.840.10008.1.2.5": { name: "RLE Lossless", kind: "rle" },
  "1.2.840.10008.1.2.4.50": { name: "JPEG Baseline (Process 1)", kind: "jpeg-baseline" },
  "1.2.840.10008.1.2.4.80": { name: "JPEG-LS Lossless", kind: "jpeg-ls" },
  "1.2.840.10008.1.2.4.81": { name: "JPEG-LS Near-Lossless", kind: "jpeg-ls" },
  "1.2.840.10008.1.2.4.90": { name: "JPEG 2000 Lossless", kind: "jpeg-2000" },
  "1.2.840.10008.1.2.4.91": { name: "JPEG 2000", kind: "jpeg-2000" },
  "1.2.840.10008.1.2.4.51": { name: "JPEG Extended (Process 2 & 4)", kind: "unsupported", reason: "12-bit JPEG: no maintained codec installed (libjpeg-turbo build is 8-bit)" },
  "1.2.840.10008.1.2.4.57": { name: "JPEG Lossless (Process 14)", kind: "unsupported", reason: "JPEG lossless: no codec installed" },
  "1.2.840.10008.1.2.4.70": { name: "JPEG Lossless SV1", kind: "unsupported", reason: "JPEG lossless: no codec installed" },
  "1.2.840.10008.1.2.4.201": { name: "HTJ2K Lossless", kind: "unsupported", reason: "HTJ2K: no codec installed" },
  "1.2.840.10008.1.2.4.100": { name: "MPEG2", kind: "unsupported", reason: "video transfer syntaxes are not images a study record uses" },
};

export function transferSyntaxOf(uid: string): TransferSyntax {
  const t = TABLE[uid];
  if (t) return { uid, ...t } as TransferSyntax;
  // a UID is public (a standard or vendor syntax name), never patient data, so it may be named
  const safe = /^[0-9.]{1,64}$/.test(uid) ? uid : "(malformed UID)";
  return { uid: safe, name: safe, kind: "unsupported", reason: "unknown or unsupported transfer syntax" };
}
