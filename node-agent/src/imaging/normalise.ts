// Modality values → the model's input: a window maps values to [0,1] (the job's window, else the
// file's VOI window, else the frame's own min..max), MONOCHROME1 is inverted so bright means dense
// everywhere, the image is padded to a square (no anatomy is cropped away) and area-resampled to S×S.
import type { PixelModule } from "./dicom-file.js";
import type { ModalityFrame } from "./pixels.js";

export interface Window {
  center: number;
  width: number;
}

/** PS3.3 C.11.2.1.2 linear VOI function, scaled to [0,1]. */
function applyWindow(values: Float32Array, w: Window): Float32Array {
  const out = new Float32Array(values.length);
  const lo = w.center - 0.5 - (w.width - 1) / 2;
  const span = Math.max(w.width - 1, 1e-6);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(1, Math.max(0, (values[i]! - lo) / span));
  return out;
}

function frameRange(values: Float32Array): Window {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const width = Math.max(max - min + 1, 2);
  return { center: min + 0.5 + (width - 1) / 2, width };
}

/** Area-average resampling (each output pixel averages the source area it covers), after padding to square. */
export function resizeSquare(img: Float32Array, rows: number, columns: number, size: number): Float32Array {
  const side = Math.max(rows, columns);
  const offY = (side - rows) / 2;
  const offX = (side - columns) / 2;
  const scale = side / size;
  const out = new Float32Array(size * size);
  for (let oy = 0; oy < size; oy++) {
    const y0 = oy * scale;
    const y1 = y0 + scale;
    for (let ox = 0; ox < size; ox++) {
      const x0 = ox * scale;
      const x1 = x0 + scale;
      let sum = 0;
      let area = 0;
      for (let sy = Math.floor(y0); sy < Math.ceil(y1); sy++) {
        const wy = Math.min(y1, sy + 1) - Math.max(y0, sy);
        const ry = sy - offY;
        for (let sx = Math.floor(x0); sx < Math.ceil(x1); sx++) {
          const wx = Math.min(x1, sx + 1) - Math.max(x0, sx);
          const rx = sx - offX;
          // padding outside the image counts as black (0)
          const v = ry >= 0 && ry < rows && rx >= 0 && rx < columns ? img[Math.floor(ry) * columns + Math.floor(rx)]! : 0;
          sum += v * wy * wx;
          area += wy * wx;
        }
      }
      out[oy * size + ox] = area > 0 ? sum / area : 0;
    }
  }
  return out;
}

/** The model input for one frame: size×size values in [0,1]. */
export function normaliseFrame(frame: ModalityFrame, px: Pick<PixelModule, "photometric" | "window">, size: number, window?: Window): Float32Array {
  const windowed = applyWindow(frame.values, window ?? px.window ?? frameRange(frame.values));
  if (px.photometric === "MONOCHROME1") for (let i = 0; i < windowed.length; i++) windowed[i] = 1 - windowed[i]!;
  return resizeSquare(windowed, frame.rows, frame.columns, size);
}
