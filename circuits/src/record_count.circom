pragma circom 2.1.6;

// Rapha record-count circuit. See circuits/README.md and docs/PROTOCOL.md.
//
// One proof covers one aligned chunk of NB buckets x 64 records of a committed dataset:
//   record word (54 bits) = id | consent<<32 | female<<33 | male<<34 | age<<35 | cond<<42 | obs<<50
//   element             = w0 + w1*2^54 + w2*2^108 + w3*2^162     (4 words per field element)
//   bucket hash         = Poseidon16(16 elements)                (64 records)
//   chunk root          = PoseidonNB(NB bucket hashes)
//   dataset root        = binary Poseidon2 tree of depth DEPTH over chunk roots (index = chunkIndex)
//
// Public signals (snarkjs order): result, usage (outputs), datasetRoot, jobBinding, params (inputs)
//   result = count + lastId * 2^32
//   usage  = Poseidon(jobBinding, chunkIndex, usedBits[0..249], usedBits[250..499], ...)
//   params = chunkIndex + minId * 2^32 + cohortParams * 2^96

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

// Range check: in is in [0, 2^n). Costs n constraints.
template RangeCheck(n) {
    signal input in;
    signal bits[n];
    var acc = 0;
    var e = 1;
    for (var k = 0; k < n; k++) {
        bits[k] <-- (in >> k) & 1;
        bits[k] * (bits[k] - 1) === 0;
        acc += bits[k] * e;
        e = e + e;
    }
    acc === in;
}

// Decomposes params = chunkIndex + minId*2^32 + cohortParams*2^96 and range-checks every field.
// chunkIndex must be < 2^DEPTH (its bits are the Merkle path selectors).
template Params(DEPTH) {
    signal input params;
    signal output chunkIndex;
    signal output pathBits[DEPTH];
    signal output minId;
    signal output ageMin;
    signal output ageMax;
    signal output sexMask[3];
    signal output condMask[8];
    signal output obsMask[4];

    var acc = 0;
    var ci = 0;
    for (var k = 0; k < DEPTH; k++) {
        pathBits[k] <-- (params >> k) & 1;
        pathBits[k] * (pathBits[k] - 1) === 0;
        ci += pathBits[k] * (1 << k);
    }
    chunkIndex <== ci;

    minId <-- (params >> 32) & 0xFFFFFFFF;
    component minIdRange = RangeCheck(32);
    minIdRange.in <== minId;

    var cohortBits[29];
    var cohort = 0;
    for (var k = 0; k < 29; k++) {
        cohortBits[k] = 0;
    }
    signal cb[29];
    for (var k = 0; k < 29; k++) {
        cb[k] <-- (params >> (96 + k)) & 1;
        cb[k] * (cb[k] - 1) === 0;
        cohort += cb[k] * (1 << k);
    }
    // reserved cohort bits 29..36 and chunkIndex bits DEPTH..31 are zero by construction:
    // params must equal exactly this recomposition.
    params === ci + minId * (1 << 32) + cohort * (1 << 96);

    var am = 0;
    var ax = 0;
    for (var k = 0; k < 7; k++) {
        am += cb[k] * (1 << k);
        ax += cb[7 + k] * (1 << k);
    }
    ageMin <== am;
    ageMax <== ax;
    for (var k = 0; k < 3; k++) { sexMask[k] <== cb[14 + k]; }
    for (var k = 0; k < 8; k++) { condMask[k] <== cb[17 + k]; }
    for (var k = 0; k < 4; k++) { obsMask[k] <== cb[25 + k]; }
}

// One record slot: decomposes the word, enforces used => eligible. Returns id.
template RecordSlot() {
    signal input word;
    signal input used;
    signal input ageMin;
    signal input ageMax;
    signal input sexF;     // sexMask bit0 - bit2 (female allowed minus other allowed)
    signal input sexM;     // sexMask bit1 - bit2
    signal input sexO;     // sexMask bit2
    signal input condMask[8];
    signal input condNone; // 1 when condMask == 0 (no condition requirement)
    signal input obsMask[4];
    signal output id;

    signal consent;
    signal female;
    signal male;
    signal age;
    signal cond[8];
    signal obs[4];

    id <-- word & 0xFFFFFFFF;
    consent <-- (word >> 32) & 1;
    female <-- (word >> 33) & 1;
    male <-- (word >> 34) & 1;
    age <-- (word >> 35) & 127;
    for (var j = 0; j < 8; j++) { cond[j] <-- (word >> (42 + j)) & 1; }
    for (var j = 0; j < 4; j++) { obs[j] <-- (word >> (50 + j)) & 1; }

    var w = id + consent * (1 << 32) + female * (1 << 33) + male * (1 << 34) + age * (1 << 35);
    for (var j = 0; j < 8; j++) { w += cond[j] * (1 << (42 + j)); }
    for (var j = 0; j < 4; j++) { w += obs[j] * (1 << (50 + j)); }
    word === w;
    // id < 2^32 is implied by the chunk's id chain (see RecordCount).

    // booleans (consent and obs are made boolean below, together with their cohort checks)
    used * (used - 1) === 0;
    female * (female - 1) === 0;
    male * (male - 1) === 0;
    female * male === 0;
    for (var j = 0; j < 8; j++) { cond[j] * (cond[j] - 1) === 0; }

    // consent is always required: (consent - used)(consent - 1) = 0 makes consent boolean and,
    // when used = 1, forces consent = 1 (one constraint instead of two)
    (consent - used) * (consent - 1) === 0;

    // sex: allowed = sexO + female*(sexF) + male*(sexM) must be 1 when used
    signal pf <== female * sexF;
    signal pm <== male * sexM;
    used * (1 - sexO - pf - pm) === 0;

    // age: always age in [0,128); when used also age >= ageMin and age <= ageMax.
    //   age - used*ageMin in [0,128)  and  used*(ageMax - age) in [0,128)
    signal uMin <== used * ageMin;
    component lo = RangeCheck(7);
    lo.in <== age - uMin;
    component hi = RangeCheck(7);
    hi.in <== used * (ageMax - age);

    // conditions: any-of (skipped when condMask == 0): s' = sum(cond&mask) + condNone != 0 when used
    var s = condNone;
    signal pc[8];
    for (var j = 0; j < 8; j++) {
        pc[j] <== cond[j] * condMask[j];
        s += pc[j];
    }
    signal sInv;
    sInv <-- (used == 1 && s != 0) ? 1 / s : 0;
    s * sInv === used;

    // observations, all-of: with q = used * mask_j, (obs_j - q)(obs_j - 1) = 0 makes obs_j boolean
    // and forces obs_j = 1 when the record is used and observation j is required
    signal q[4];
    for (var j = 0; j < 4; j++) {
        q[j] <== used * obsMask[j];
        (obs[j] - q[j]) * (obs[j] - 1) === 0;
    }
}

// NB: buckets per chunk (64 records each), DEPTH: Merkle depth over chunks, GAPBITS: bound on
// id_i - id_{i-1} - 1 inside a chunk (the dataset builder inserts filler records to keep gaps small).
template RecordCount(NB, DEPTH, GAPBITS) {
    var N = NB * 64;
    var LIMBS = (N + 249) \ 250;

    signal input datasetRoot;
    signal input jobBinding;
    signal input params;

    signal input words[N];
    signal input used[N];
    signal input pathElements[DEPTH];

    signal output result;
    signal output usage;

    component P = Params(DEPTH);
    P.params <== params;

    // condNone = (condMask == 0)
    var cm = 0;
    for (var j = 0; j < 8; j++) { cm += P.condMask[j]; }
    signal cmInv;
    cmInv <-- cm == 0 ? 0 : 1 / cm;
    signal condNone <== 1 - cm * cmInv;
    cm * condNone === 0;

    signal sexF <== P.sexMask[0] - P.sexMask[2];
    signal sexM <== P.sexMask[1] - P.sexMask[2];

    component slot[N];
    var count = 0;
    for (var i = 0; i < N; i++) {
        slot[i] = RecordSlot();
        slot[i].word <== words[i];
        slot[i].used <== used[i];
        slot[i].ageMin <== P.ageMin;
        slot[i].ageMax <== P.ageMax;
        slot[i].sexF <== sexF;
        slot[i].sexM <== sexM;
        slot[i].sexO <== P.sexMask[2];
        for (var j = 0; j < 8; j++) { slot[i].condMask[j] <== P.condMask[j]; }
        slot[i].condNone <== condNone;
        for (var j = 0; j < 4; j++) { slot[i].obsMask[j] <== P.obsMask[j]; }
        count += used[i];
    }

    // id chain: id_0 >= minId, strictly increasing with bounded gaps, lastId < 2^32.
    component first = RangeCheck(32);
    first.in <== slot[0].id - P.minId;
    component gap[N - 1];
    for (var i = 1; i < N; i++) {
        gap[i - 1] = RangeCheck(GAPBITS);
        gap[i - 1].in <== slot[i].id - slot[i - 1].id - 1;
    }
    component last = RangeCheck(32);
    last.in <== slot[N - 1].id;

    result <== count + slot[N - 1].id * (1 << 32);

    // membership: words -> elements -> buckets -> chunk root -> dataset root
    component bucket[NB];
    for (var b = 0; b < NB; b++) {
        bucket[b] = Poseidon(16);
        for (var e = 0; e < 16; e++) {
            var base = b * 64 + e * 4;
            bucket[b].inputs[e] <== words[base] + words[base + 1] * (1 << 54)
                + words[base + 2] * (1 << 108) + words[base + 3] * (1 << 162);
        }
    }
    component chunk = Poseidon(NB);
    for (var b = 0; b < NB; b++) { chunk.inputs[b] <== bucket[b].out; }

    component node[DEPTH];
    signal cur[DEPTH + 1];
    signal sw[DEPTH];
    cur[0] <== chunk.out;
    for (var d = 0; d < DEPTH; d++) {
        // bit = 1: current node is the right child
        sw[d] <== P.pathBits[d] * (pathElements[d] - cur[d]);
        node[d] = Poseidon(2);
        node[d].inputs[0] <== cur[d] + sw[d];
        node[d].inputs[1] <== pathElements[d] - sw[d];
        cur[d + 1] <== node[d].out;
    }
    datasetRoot === cur[DEPTH];

    // usage commitment
    component uc = Poseidon(2 + LIMBS);
    uc.inputs[0] <== jobBinding;
    uc.inputs[1] <== P.chunkIndex;
    for (var l = 0; l < LIMBS; l++) {
        var acc = 0;
        for (var j = 0; j < 250; j++) {
            if (l * 250 + j < N) {
                acc += used[l * 250 + j] * (1 << j);
            }
        }
        uc.inputs[2 + l] <== acc;
    }
    usage <== uc.out;
}
