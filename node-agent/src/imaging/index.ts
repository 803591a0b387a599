// Imaging datasets (DICOM from a PACS export): the interface the agent, the training loader and
// `dataset inspect` call. See each module for its one job.
export { DEFAULT_IMAGING_LIMITS, type ImagingLimits } from "./limits.js";
export { readImagingExport, type ImagingExport, type ImagingPatient, type ImagingStudy, type ImagingSeries, type ReadExportOptions } from "./export.js";
export { readDicomFile, type DicomInstance, type PixelModule, type DicomReadResult } from "./dicom-file.js";
export { decodeModalityFrame, ImagingDecodeError, type ModalityFrame } from "./pixels.js";
export { normaliseFrame, resizeSquare, type Window } from "./normalise.js";
export { IMAGING_MODALITY_BITS, IMAGING_REGION_BITS, modalityMask, regionMask } from "./features.js";
export { imagingConsent, type ImagingConsent, type ImagingConsentSources } from "./consent.js";
export { readStudyLabelsCsv, labelsFromLinkedEhr, type StudyLabels } from "./labels.js";
export { buildImagingRecords, representativeImage, studyAge, studySex, studyFeatures, type ImagingRecord, type ImagingRecordSet, type BuildImagingRecordsOptions } from "./records.js";
export { loadImagingTensor, recordImage, type ImagingTensor, type ImagingTensorOptions } from "./tensor.js";
export { inspectImaging, type ImagingInspectReport } from "./inspect.js";
export { loadImagingDataset, loadImagingRows, eligibleImagingRecords, reportImagingDataset, inspectImagingFolder, formatImagingReport, imagingProfile, type ImagingProfile, type ImagingDataset, type ImagingRows, type ImagingDatasetReport } from "./dataset.js";
