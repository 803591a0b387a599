// `rapha-node dataset inspect`: the report's keys, its privacy (counts and codes only), the capacity
// verdict beyond the dev circuit instance, and the command itself (commander, as cli.ts wires it).
import { expect } from "chai";
import { Command } from "commander";
import { inspectDataset, instanceSlots } from "../../src/data/inspect.js";
import { registerInspectCommand } from "../../src/data/inspect-command.js";
import { ConditionValueSets } from "../../src/data/valuesets/index.js";
import { generateSynthetic } from "../../src/data/synth.js";
import { CONDITION_CATEGORIES, OBSERVATIONS } from "@rapha/sdk/cohort";
import { DEV_INSTANCE } from "@rapha/sdk/constants";
import { SAMPLE, LEGAL_BASIS, schemaWith, tmp } from "./helpers.js";
import { makeDataset, CANARY_STRINGS } from "../helpers.js";

async function runCli(args: string[]): Promise<{ out: string; exitCode: number | undefined }> {
  const program = new Command().exitOverride();
  program.option("--home <dir>", "", tmp("home"));
  registerInspectCommand(program.command("dataset"), () => program.opts().home);
  const log = console.log;
  let out = "";
  console.log = (s: string) => void (out += `${s}\n`);
  const before = process.exitCode;
  try {
    await program.parseAsync(["node", "rapha-node", "dataset", "inspect", ...args]);
  } finally {
    console.log = log;
  }
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = before;
  return { out, exitCode };
}

describe("dataset inspect", () => {
  it("reports exactly the issue's keys (plus context), counts and codes only", async () => {
    const ds = makeDataset(300, 9);
    const r = await inspectDataset({ dir: ds.dir, schema: schemaWith() });
    for (const k of ["records", "consented", "deceased", "sex", "age", "conditions", "observations", "unmappedCodes", "problems", "consentModel"]) expect(r, k).to.have.property(k);
    expect(Object.keys(r.age!)).to.deep.equal(["min", "median", "max"]);
    expect(Object.keys(r.conditions)).to.deep.equal(CONDITION_CATEGORIES.map((c) => c.key));
    expect(Object.keys(r.observations)).to.deep.equal(OBSERVATIONS.map((o) => o.key));
    const text = JSON.stringify(r);
    for (const s of CANARY_STRINGS) expect(text).to.not.include(s);
    expect(text).to.not.match(/MRN\d{8}/);
  });

  it("a dataset beyond the dev circuit instance says so and names the remedy", async () => {
    expect(instanceSlots(DEV_INSTANCE)).to.equal(1024);
    const dir = tmp("big");
    generateSynthetic(dir, { seed: 1, patients: 1100, formats: ["fhir"] });
    const dev = await inspectDataset({ dir, schema: schemaWith() });
    expect(dev.usable).to.equal(false);
    expect(dev.capacity).to.include({ instance: "dev", slots: 1024, fits: false });
    expect(dev.refusal).to.include('set prover.instance to "prod"');
    const prod = await inspectDataset({ dir, schema: schemaWith(), instance: "prod" });
    expect(prod.usable).to.equal(true);
  });

  it("the command prints JSON with --json and exits non-zero on a refused dataset (no chain, no keys)", async () => {
    const refused = await runCli([SAMPLE, "--json"]);
    const j = JSON.parse(refused.out);
    expect(j.records).to.equal(13);
    expect(j.consentModel.model).to.equal("fhir-consent");
    expect(j.usable).to.equal(false);
    expect(refused.exitCode).to.equal(2);
    const dir = tmp("schema");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(`${dir}/schema.json`, JSON.stringify({ ...schemaWith({ asOf: "2024-08-06", consent: { model: "legal-basis", legalBasis: LEGAL_BASIS } }) }));
    const ok = await runCli([SAMPLE, "--schema", `${dir}/schema.json`]);
    expect(ok.out).to.match(/records\s+13 \(consented 13, deceased 3\)/);
    expect(ok.out).to.match(/verdict\s+usable/);
    expect(ok.exitCode).to.equal(undefined);
  });

  it("the shipped value set agrees with the sdk's categories and names its sources and version", () => {
    const vs = new ConditionValueSets();
    expect(vs.info).to.deep.equal({ id: "rapha-condition-categories", version: "2026.1" });
    const cat = (system: string, code: string) => {
      const v = vs.classify({ system, code });
      return v.kind === "mapped" ? CONDITION_CATEGORIES.filter((_, b) => v.mask & (1 << b)).map((c) => c.key) : v.kind;
    };
    expect(cat("http://hl7.org/fhir/sid/icd-9-cm", "250.00")).to.deep.equal(["diabetes"]);
    expect(cat("http://hl7.org/fhir/sid/icd-10-cm", "E11.9")).to.deep.equal(["diabetes"]);
    expect(cat("http://hl7.org/fhir/sid/icd-10-cm", "U07.1")).to.deep.equal(["respiratory", "infectious"]);
    expect(cat("http://hl7.org/fhir/sid/icd-9-cm", "585.6")).to.deep.equal(["renal"]);
    expect(cat("http://snomed.info/sct", "46177005")).to.deep.equal(["renal"]);
    expect(cat("http://snomed.info/sct", "160903007")).to.equal("unmapped");
    expect(cat("http://example.org/local", "X")).to.equal("unknown-system");
    expect(cat("http://hl7.org/fhir/sid/icd-10-cm", "not a code")).to.equal("bad-code");
    // schema features naming a parent concept match its descendants (CKD stage 3 → CKD)
    expect(vs.snomedAncestors("433144002")).to.include("709044004");
  });
});
