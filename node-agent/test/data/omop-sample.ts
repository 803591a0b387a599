// Builds a small OMOP CDM v5.4 database (PGlite, embedded Postgres) holding exactly the patients of a
// FHIR Bulk export, the way an ETL (e.g. OHDSI's FHIR-to-OMOP) would: person/death from Patient,
// condition_occurrence from Condition (SNOMED CT as the standard concept, ICD as the source concept;
// refuted/entered-in-error never loaded; resolved → condition_end_date), measurement from Observation
// values and BP components, concepts in `concept`. Test-only code, independent of the loader.
import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";

export const CDM_DDL = `
CREATE TABLE concept (concept_id integer PRIMARY KEY, concept_name varchar(255) NOT NULL, domain_id varchar(20) NOT NULL, vocabulary_id varchar(20) NOT NULL, concept_class_id varchar(20) NOT NULL, standard_concept varchar(1), concept_code varchar(50) NOT NULL, valid_start_date date NOT NULL, valid_end_date date NOT NULL, invalid_reason varchar(1));
CREATE TABLE person (person_id integer PRIMARY KEY, gender_concept_id integer NOT NULL, year_of_birth integer NOT NULL, month_of_birth integer, day_of_birth integer, birth_datetime timestamp, race_concept_id integer NOT NULL, ethnicity_concept_id integer NOT NULL, location_id integer, provider_id integer, care_site_id integer, person_source_value varchar(50), gender_source_value varchar(50), gender_source_concept_id integer, race_source_value varchar(50), race_source_concept_id integer, ethnicity_source_value varchar(50), ethnicity_source_concept_id integer);
CREATE TABLE death (person_id integer NOT NULL, death_date date NOT NULL, death_datetime timestamp, death_type_concept_id integer, cause_concept_id integer, cause_source_value varchar(50), cause_source_concept_id integer);
CREATE TABLE condition_occurrence (condition_occurrence_id integer PRIMARY KEY, person_id integer NOT NULL, condition_concept_id integer NOT NULL, condition_start_date date NOT NULL, condition_start_datetime timestamp, condition_end_date date, condition_end_datetime timestamp, condition_type_concept_id integer NOT NULL, condition_status_concept_id integer, stop_reason varchar(20), provider_id integer, visit_occurrence_id integer, visit_detail_id integer, condition_source_value varchar(50), condition_source_concept_id integer, condition_status_source_value varchar(50));
CREATE TABLE measurement (measurement_id integer PRIMARY KEY, person_id integer NOT NULL, measurement_concept_id integer NOT NULL, measurement_date date NOT NULL, measurement_datetime timestamp, measurement_time varchar(10), measurement_type_concept_id integer NOT NULL, operator_concept_id integer, value_as_number numeric, value_as_concept_id integer, unit_concept_id integer, range_low numeric, range_high numeric, provider_id integer, visit_occurrence_id integer, visit_detail_id integer, measurement_source_value varchar(50), measurement_source_concept_id integer, unit_source_value varchar(50), unit_source_concept_id integer, value_source_value varchar(50), measurement_event_id bigint, meas_event_field_concept_id integer);
CREATE TABLE observation (observation_id integer PRIMARY KEY, person_id integer NOT NULL, observation_concept_id integer NOT NULL, observation_date date NOT NULL, observation_datetime timestamp, observation_type_concept_id integer NOT NULL, value_as_number numeric, value_as_string varchar(60), value_as_concept_id integer, qualifier_concept_id integer, unit_concept_id integer, provider_id integer, visit_occurrence_id integer, visit_detail_id integer, observation_source_value varchar(50), observation_source_concept_id integer, unit_source_value varchar(50), qualifier_source_value varchar(50), value_source_value varchar(50), observation_event_id bigint, obs_event_field_concept_id integer);
`;

const VOCAB: Record<string, string> = {
  "http://snomed.info/sct": "SNOMED",
  "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
  "http://hl7.org/fhir/sid/icd-10": "ICD10",
  "http://hl7.org/fhir/sid/icd-9-cm": "ICD9CM",
  "http://loinc.org": "LOINC",
};

function resources(dir: string, type: string): Array<Record<string, any>> {
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${type}.`) && f.includes(".ndjson"))
    .sort()
    .flatMap((f) => {
      const raw = readFileSync(join(dir, f));
      return (f.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    });
}

const q = (v: unknown) => (v === null || v === undefined ? "NULL" : typeof v === "number" ? String(v) : `'${String(v).replace(/'/g, "''")}'`);

export async function omopFromFhir(dir: string): Promise<PGlite> {
  const db = new PGlite();
  await db.exec(CDM_DDL);
  const concepts = new Map<string, number>();
  const concept = (vocab: string, code: string, domain: string) => {
    const k = `${vocab}|${code}`;
    if (!concepts.has(k)) concepts.set(k, 1_000_000 + concepts.size);
    return { id: concepts.get(k)!, vocab, code, domain };
  };
  const conceptRows: string[] = [];
  const rows: string[] = [];
  const personOf = new Map<string, number>();
  for (const p of resources(dir, "Patient")) {
    if (personOf.has(p.id)) continue;
    const pid = personOf.size + 1;
    personOf.set(p.id, pid);
    const mrn = (p.identifier.find((i: any) => i.type?.coding?.some((c: any) => c.code === "MR")) ?? p.identifier[0]).value;
    const [y, m, d] = p.birthDate.split("-").map(Number);
    const gender = p.gender === "female" ? 8532 : p.gender === "male" ? 8507 : 0;
    rows.push(`INSERT INTO person (person_id, gender_concept_id, year_of_birth, month_of_birth, day_of_birth, race_concept_id, ethnicity_concept_id, person_source_value) VALUES (${pid}, ${gender}, ${y}, ${m ?? "NULL"}, ${d ?? "NULL"}, 0, 0, ${q(mrn)})`);
    if (p.deceasedDateTime) rows.push(`INSERT INTO death (person_id, death_date, death_type_concept_id) VALUES (${pid}, ${q(p.deceasedDateTime.slice(0, 10))}, 32817)`);
  }
  let coId = 0;
  for (const c of resources(dir, "Condition")) {
    const ver = c.verificationStatus?.coding?.[0]?.code;
    if (ver === "refuted" || ver === "entered-in-error") continue;
    const pid = personOf.get(c.subject.reference.slice(8));
    if (!pid) continue;
    const snomed = c.code.coding.find((x: any) => VOCAB[x.system] === "SNOMED");
    const icd = c.code.coding.find((x: any) => VOCAB[x.system] && VOCAB[x.system] !== "SNOMED");
    const std = snomed ? concept("SNOMED", snomed.code, "Condition") : null;
    const src = icd ? concept(VOCAB[icd.system]!, icd.code, "Condition") : null;
    const resolved = c.clinicalStatus?.coding?.[0]?.code === "resolved";
    rows.push(`INSERT INTO condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_end_date, condition_type_concept_id, condition_source_concept_id) VALUES (${++coId}, ${pid}, ${std?.id ?? 0}, '2020-01-01', ${resolved ? "'2021-01-01'" : "NULL"}, 32817, ${src?.id ?? 0})`);
  }
  let mId = 0;
  for (const o of resources(dir, "Observation")) {
    const pid = personOf.get(o.subject.reference.slice(8));
    if (!pid) continue;
    const values = [...(o.valueQuantity ? [{ coding: o.code.coding, q: o.valueQuantity }] : []), ...(o.component ?? []).filter((c: any) => c.valueQuantity).map((c: any) => ({ coding: c.code.coding, q: c.valueQuantity }))];
    for (const v of values) {
      const loinc = v.coding.find((x: any) => x.system === "http://loinc.org");
      const mc = concept("LOINC", loinc.code, "Measurement");
      const uc = concept("UCUM", v.q.code, "Unit");
      const ts = o.effectiveDateTime.replace("T", " ").replace(/(\.\d+)?Z$/, "");
      rows.push(`INSERT INTO measurement (measurement_id, person_id, measurement_concept_id, measurement_date, measurement_datetime, measurement_type_concept_id, value_as_number, unit_concept_id) VALUES (${++mId}, ${pid}, ${mc.id}, ${q(ts.slice(0, 10))}, ${q(ts)}, 32817, ${v.q.value}, ${uc.id})`);
    }
  }
  for (const [k, id] of concepts) {
    const [vocab, code] = k.split("|");
    conceptRows.push(`INSERT INTO concept VALUES (${id}, 'c', 'x', ${q(vocab)}, 'x', 'S', ${q(code)}, '1970-01-01', '2099-12-31', NULL)`);
  }
  await db.exec([...conceptRows, ...rows].join(";\n"));
  return db;
}
