// DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of up to 15 segment offsets, each segment a
// PackBits stream of one byte plane (most significant byte first, one plane per sample). No
// maintained npm package decodes it on its own, and it is small and exactly specified.

/**
 * Decodes one RLE frame into little-endian interleaved samples (the native pixel layout).
 * Throws with a structural reason (never a pixel value) when the frame is malformed.
 */
export function decodeRleFrame(frame: Uint8Array, pixels: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
  const bytesPerSample = bitsAllocated / 8;
  const planes = samplesPerPixel * bytesPerSample;
  if (frame.length < 64) throw new Error("RLE frame shorter than its 64-byte header");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== planes) throw new Error(`RLE header names ${segments} segments, ${planes} expected for the pixel module`);
  const out = new Uint8Array(pixels * planes);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || end > frame.length || end < start) throw new Error("RLE segment offsets point outside the frame");
    const sample = Math.floor(s / bytesPerSample);
    // segment order is most significant byte first; output is little endian
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const stride = planes;
    let o = sample * bytesPerSample + byteInSample;
    let written = 0;
    let i = start;
    while (i < end && written < pixels) {
      const n = (frame[i++]! << 24) >> 24;
      if (n >= 0) {
        const count = n + 1;
        if (i + count > end) throw new Error("RLE literal run passes the end of its segment");
        for (let k = 0; k < count && written < pixels; k++, written++, o += stride) out[o] = frame[i + k]!;
        i += count;
      } else if (n !== -128) {
        if (i >= end) throw new Error("RLE replicate run passes the end of its segment");
        const v = frame[i++]!;
        for (let k = 0; k < 1 - n && written < pixels; k++, written++, o += stride) out[o] = v;
      }
    }
    if (written < pixels) throw new Error("RLE segment decodes to fewer pixels than declared");
  }
  return out;
}

/** Encodes one plane as PackBits (used by the test-data generator to write RLE files). */
export function encodePackBits(plane: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < plane.length) {
    let run = 1;
    while (i + run < plane.length && run < 128 && plane[i + run] === plane[i]) run++;
    if (run >= 2) {
      out.push(257 - run, plane[i]!);
      i += run;
      continue;
    }
    const start = i;
    while (i < plane.length && i - start < 128 && !(i + 1 < plane.length && plane[i + 1] === plane[i])) i++;
    out.push(i - start - 1, ...plane.subarray(start, i));
  }
  return Uint8Array.from(out);
}

/** Encodes little-endian interleaved samples as one RLE frame (header + one segment per byte plane). */
export function encodeRleFrame(samples: Uint8Array, pixels: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
  const bytesPerSample = bitsAllocated / 8;
  const planes = samplesPerPixel * bytesPerSample;
  const segs: Uint8Array[] = [];
  for (let s = 0; s < planes; s++) {
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const plane = new Uint8Array(pixels);
    for (let p = 0; p < pixels; p++) plane[p] = samples[p * planes + sample * bytesPerSample + byteInSample]!;
    const seg = encodePackBits(plane);
    segs.push(seg.length % 2 ? Uint8Array.from([...seg, 0x80]) : seg); // even length; 0x80 is a no-op
  }
  const header = new DataView(new ArrayBuffer(64));
  header.setUint32(0, planes, true);
  let offset = 64;
  segs.forEach((seg, s) => {
    header.setUint32(4 + 4 * s, offset, true);
    offset += seg.length;
  });
  const out = new Uint8Array(offset);
  out.set(new Uint8Array(header.buffer), 0);
  let at = 64;
  for (const seg of segs) {
    out.set(seg, at);
    at += seg.length;
  }
  return out;
}
