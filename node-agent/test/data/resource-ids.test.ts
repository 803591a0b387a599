// Duplicate resource ids across parts, as the pooled reader sees them: hashes first, exact strings
// only once a hash matches (a true duplicate, or two ids whose hashes collide).
import { expect } from "chai";
import { ResourceIds, idHash } from "../../src/data/fhir/resource-ids.js";

const file = (...ids: string[]) => [ids.join("\n"), Float64Array.from(ids, idHash)] as const;

describe("resource ids across parts", () => {
  it("admits parts with new ids, refuses a part repeating an earlier id and then decides on the exact strings", () => {
    const r = new ResourceIds();
    expect(r.addFile(...file("obs-1", "obs-2"))).to.equal(true);
    expect(r.addFile(...file("obs-3"))).to.equal(true);
    expect(r.addFile(...file("obs-4", "obs-2"))).to.equal(false);
    expect([...r.exactSet()].sort()).to.deep.equal(["obs-1", "obs-2", "obs-3"]);
    expect(r.addFile(...file("obs-5"))).to.equal(true);
    expect(r.addFile(...file("obs-5"))).to.equal(false);
    expect(r.exactSet().has("obs-5")).to.equal(true);
  });

  it("a hash shared by two different ids is not a duplicate: the exact strings decide", () => {
    const r = new ResourceIds();
    expect(r.addFile("a", Float64Array.of(42))).to.equal(true);
    expect(r.addFile("b", Float64Array.of(42))).to.equal(true);
    expect([...r.exactSet()].sort()).to.deep.equal(["a", "b"]);
  });

  it("hashes are non-zero, 52-bit, and spread 200,000 ids without a collision; the table grows past its first size", () => {
    const r = new ResourceIds();
    const ids = Array.from({ length: 200_000 }, (_, i) => `obs-2026-${i}`);
    const hs = Float64Array.from(ids, idHash);
    expect(new Set(hs).size).to.equal(ids.length);
    expect(hs.every((h) => Number.isInteger(h) && h > 0 && h <= 2 ** 52)).to.equal(true);
    expect(r.addFile(ids.join("\n"), hs)).to.equal(true);
    expect(r.addFile(...file("obs-2026-199999"))).to.equal(false);
  });

  it("ids added one by one: a repeat is refused, a hash match with another id is not; export() round-trips into addFile", () => {
    const r = new ResourceIds();
    const ids = Array.from({ length: 5000 }, (_, i) => `obs-${i}`);
    for (const id of ids) expect(r.add(id)).to.equal(true);
    expect(r.add("obs-4999")).to.equal(false);
    expect(r.add("obs-17")).to.equal(false);
    const { joined, hashes } = r.export();
    expect(joined.split("\n").sort()).to.deep.equal([...ids].sort());
    expect([...hashes].sort()).to.deep.equal([...Float64Array.from(ids, idHash)].sort());
    const other = new ResourceIds();
    expect(other.addFile(joined, hashes)).to.equal(true);
    expect(other.add("obs-123")).to.equal(false);
    expect(other.add("obs-5000")).to.equal(true);
    // a part whose (claimed) hash is the hash of "y": adding "y" matches the hash, the strings decide
    const c = new ResourceIds();
    expect(c.addFile("x", Float64Array.of(idHash("y")))).to.equal(true);
    expect(c.add("y")).to.equal(true);
    expect(c.add("y")).to.equal(false);
    expect(c.add("x")).to.equal(false);
    expect(c.export().joined.split("\n").sort()).to.deep.equal(["x", "y"]);
  });
});
