// The progress board: epochs and batches as stages report them, the time-left estimate from the
// measured pace, rounding of the public loss, bounded memory.
import { expect } from "chai";
import { ProgressBoard, publicLoss } from "../../src/progress/board.js";

describe("progress board", () => {
  it("estimates time left from the measured pace of epochs, then of proofs", () => {
    let t = 1_000_000;
    const b = new ProgressBoard(() => t);
    expect(b.status("1", "accepted")).to.include({ training: null, batches: null, etaSeconds: null, updatedAt: null });
    b.epoch("1", 1, 11, 0.9123);
    expect(b.status("1", "accepted").etaSeconds, "one epoch: no pace yet").to.equal(null);
    t += 2000;
    b.epoch("1", 2, 11, 0.8);
    t += 500;
    // 2 s per epoch, 9 epochs left, 0.5 s into the next one
    expect(b.status("1", "accepted")).to.deep.include({ training: { epoch: 2, epochs: 11, loss: 0.8 }, etaSeconds: 18 });
    b.batches("1", { proven: 1, submitted: 0, total: 5 });
    t += 4000;
    b.batches("1", { proven: 1, submitted: 1, total: 5 });
    b.batches("1", { proven: 2, submitted: 1, total: 5 });
    // 4 s per proof, 3 left
    expect(b.status("1", "trained")).to.deep.include({ batches: { proven: 2, submitted: 1, total: 5 }, etaSeconds: 12 });
    // after a restart the board is empty; the persisted pace and mined batch txs fill in
    const fresh = new ProgressBoard(() => t);
    expect(fresh.status("1", "trained", { msPerBatch: 4000, submitted: 2 })).to.include({ batches: null, etaSeconds: null });
    expect(b.status("1", "settled", { submitted: 5 })).to.deep.include({ etaSeconds: 0, batches: { proven: 2, submitted: 5, total: 5 } });
  });

  it("publishes the loss rounded to 2 significant digits, and forgets the oldest job beyond its cap", () => {
    expect(publicLoss(0.693147)).to.equal(0.69);
    expect(publicLoss(Number.NaN)).to.equal(null);
    const b = new ProgressBoard(Date.now, 2);
    b.epoch("1", 1, 2);
    b.epoch("2", 1, 2);
    b.epoch("3", 1, 2);
    expect(b.status("1", "accepted").training).to.equal(null);
    expect(b.status("3", "accepted").training).to.deep.equal({ epoch: 1, epochs: 2, loss: null });
  });
});
