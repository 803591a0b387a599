// The part of dcmjs (no bundled types) the synthetic-export writer uses.
declare module "dcmjs" {
  interface DicomDict {
    dict: object;
    write(): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomDict: new (meta: object) => DicomDict;
      DicomMetaDictionary: { denaturalizeDataset(dataset: object): object };
    };
  };
  export default dcmjs;
}
