// `rapha-node dataset inspect <dir|postgres-url> [--schema f] [--format f] [--json]`: no chain, no
// keys; reads the node's prover instance from its home when there is one (for the capacity check).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Option, type Command } from "commander";
import { loadHome } from "../config.js";
import { loadAnyDatasetSchema } from "./schema.js";

export const isConnectionString = (s: string): boolean => /^postgres(ql)?:\/\//.test(s);

export function registerInspectCommand(group: Command, homeDir: () => string): void {
  group
    .command("inspect <source>")
    .description("data-quality report of a FHIR Bulk export, CSV, OMOP CDM (postgres://…) or DICOM folder (with a schema of kind \"imaging\") before registering; no chain needed")
    .option("--schema <file>", "dataset schema JSON (consent model, asOf, deceased/condition rules); default: FHIR Consent resources, today")
    .addOption(new Option("--format <format>", "source format (default: detected)").choices(["fhir", "csv", "omop"]))
    .option("--db-schema <name>", "OMOP: database schema holding the CDM tables", "public")
    .option("--json", "print the report as JSON", false)
    .action(async (source: string, o: { schema?: string; format?: "fhir" | "csv" | "omop"; dbSchema: string; json: boolean }) => {
      // the readers (pg, UCUM tables, value sets) load only when the command runs, like the agent in cli.ts
      const { inspectDataset, defaultInspectSchema, formatInspectReport } = await import("./inspect.js");
      const dir = isConnectionString(source) ? source : resolve(source);
      const home = resolve(homeDir());
      const instance = existsSync(join(home, "config.json")) ? loadHome(home).config.prover.instance : "dev";
      const any = o.schema ? loadAnyDatasetSchema(resolve(o.schema)) : undefined;
      if (any?.kind === "imaging") {
        // a DICOM folder: the schema (kind "imaging") names its consent model and labels
        const { inspectImagingFolder, formatImagingReport } = await import("../imaging/dataset.js");
        const r = await inspectImagingFolder(dir, any.schema, instance);
        console.log(o.json ? JSON.stringify(r, null, 2) : formatImagingReport(r));
        if (!r.usable) process.exitCode = 2;
        return;
      }
      const schema = any?.kind === "ehr" ? any.schema : defaultInspectSchema();
      const report = await inspectDataset({ dir, schema, format: o.format, instance, baseDir: isConnectionString(source) ? (o.schema ? resolve(o.schema, "..") : process.cwd()) : undefined, omop: { dbSchema: o.dbSchema } });
      console.log(o.json ? JSON.stringify(report, null, 2) : formatInspectReport(report));
      if (!report.usable) process.exitCode = 2;
    });
}
