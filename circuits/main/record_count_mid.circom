pragma circom 2.1.6;
// BENCHMARK instantiation: 128 records per proof (2 buckets), Merkle depth 8. Same template as
// dev/prod; its INSECURE 2^14 setup is derived locally by `BENCH_ZK_MID=1 npm run bench:zk`.
include "../src/record_count.circom";
component main {public [datasetRoot, jobBinding, params]} = RecordCount(2, 8, 24);
