pragma circom 2.1.6;
// PRODUCTION instantiation: 512 records per proof (8 buckets), Merkle depth 12 (4,096 chunks, 2,097,152 records).
include "../src/record_count.circom";
component main {public [datasetRoot, jobBinding, params]} = RecordCount(8, 12, 24);
