pragma circom 2.1.6;
// BENCHMARK BASELINE ONLY: the naive design, one depth-20 Merkle path per record
// (leaf = Poseidon(word)), same word decomposition, predicate and id chain as RecordCount.
include "../src/record_count.circom";

template NaiveRecordCount(R, DEPTH) {
    signal input datasetRoot;
    signal input jobBinding;
    signal input params;
    signal input words[R];
    signal input used[R];
    signal input pathElements[R][DEPTH];
    signal input pathIndex[R];
    signal output result;
    signal output usage;

    component P = Params(4);
    P.params <== params;
    var cm = 0;
    for (var j = 0; j < 8; j++) { cm += P.condMask[j]; }
    signal cmInv;
    cmInv <-- cm == 0 ? 0 : 1 / cm;
    signal condNone <== 1 - cm * cmInv;
    cm * condNone === 0;

    component slot[R];
    component leaf[R];
    component idx[R];
    component node[R][DEPTH];
    signal cur[R][DEPTH + 1];
    signal sw[R][DEPTH];
    component gap[R];
    var count = 0;
    for (var i = 0; i < R; i++) {
        slot[i] = RecordSlot();
        slot[i].word <== words[i];
        slot[i].used <== used[i];
        slot[i].ageMin <== P.ageMin;
        slot[i].ageMax <== P.ageMax;
        slot[i].sexF <== P.sexMask[0] - P.sexMask[2];
        slot[i].sexM <== P.sexMask[1] - P.sexMask[2];
        slot[i].sexO <== P.sexMask[2];
        for (var j = 0; j < 8; j++) { slot[i].condMask[j] <== P.condMask[j]; }
        slot[i].condNone <== condNone;
        for (var j = 0; j < 4; j++) { slot[i].obsMask[j] <== P.obsMask[j]; }
        count += used[i];

        gap[i] = RangeCheck(32);
        gap[i].in <== i == 0 ? slot[0].id - P.minId : slot[i].id - slot[i - 1].id - 1;

        leaf[i] = Poseidon(1);
        leaf[i].inputs[0] <== words[i];
        idx[i] = Num2Bits(DEPTH);
        idx[i].in <== pathIndex[i];
        cur[i][0] <== leaf[i].out;
        for (var d = 0; d < DEPTH; d++) {
            sw[i][d] <== idx[i].out[d] * (pathElements[i][d] - cur[i][d]);
            node[i][d] = Poseidon(2);
            node[i][d].inputs[0] <== cur[i][d] + sw[i][d];
            node[i][d].inputs[1] <== pathElements[i][d] - sw[i][d];
            cur[i][d + 1] <== node[i][d].out;
        }
        datasetRoot === cur[i][DEPTH];
    }
    result <== count + slot[R - 1].id * (1 << 32);
    component uc = Poseidon(3);
    uc.inputs[0] <== jobBinding;
    uc.inputs[1] <== P.chunkIndex;
    var acc = 0;
    for (var i = 0; i < R; i++) { acc += used[i] * (1 << i); }
    uc.inputs[2] <== acc;
    usage <== uc.out;
}

component main {public [datasetRoot, jobBinding, params]} = NaiveRecordCount(1, 20);
