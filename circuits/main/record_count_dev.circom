pragma circom 2.1.6;
// DEV / TEST instantiation: 64 records per proof (1 bucket), Merkle depth 4 (16 chunks, 1,024 records).
include "../src/record_count.circom";
component main {public [datasetRoot, jobBinding, params]} = RecordCount(1, 4, 24);
