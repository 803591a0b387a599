// Bounds on what one DICOM file may cost. Every check happens before the allocation it guards, so a
// hostile or broken export (a 2 GB file, a deflate or pixel "bomb", sequences nested thousands deep)
// becomes one problem entry and the scan goes on with bounded memory and time.
export interface ImagingLimits {
  /** refused by size (stat) before a byte is read */
  maxFileBytes: number;
  /** a deflated data set may not inflate beyond this */
  maxInflatedBytes: number;
  /** rows × columns × samples of one frame (one frame is decoded at a time; mammograms are ~21M) */
  maxPixelsPerFrame: number;
  /** NumberOfFrames a file may declare */
  maxFrames: number;
  /** sequence-in-item nesting deeper than this is refused (real IODs nest a handful deep) */
  maxSequenceDepth: number;
  /** files visited per export (a runaway tree is cut off and reported) */
  maxFiles: number;
  /** folder nesting below the export root */
  maxFolderDepth: number;
}

export const DEFAULT_IMAGING_LIMITS: ImagingLimits = {
  maxFileBytes: 512 * 1024 * 1024,
  maxInflatedBytes: 1024 * 1024 * 1024,
  maxPixelsPerFrame: 32 * 1024 * 1024,
  maxFrames: 10_000,
  maxSequenceDepth: 32,
  maxFiles: 2_000_000,
  maxFolderDepth: 32,
};
