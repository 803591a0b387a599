// Imaging datasets use the same consent models as EHR datasets (schema `consent`). DICOM headers
// carry no consent, so the decision comes from where the model says it lives: nowhere (legal basis),
// the opt-out list (matched on PatientID, the PACS's MRN), or the linked EHR export's decisions per
// MRN (FHIR Consent resources or the Patient extension, evaluated by the EHR path's RecordBuilder).
import type { OptOutList, ResolvedConsentModel } from "../data/consent/model.js";

export interface ImagingConsent {
  readonly model: ResolvedConsentModel["model"];
  /** research consent of the patient with this PatientID */
  consents(patientId: string): boolean;
}

export interface ImagingConsentSources {
  /** the opt-out list (opt-out-list model), read with readOptOutList */
  optOut?: OptOutList;
  /** consent decision per MRN from the linked EHR export (fhir-consent / patient-extension models) */
  decisions?: ReadonlyMap<string, boolean>;
}

export function imagingConsent(model: ResolvedConsentModel, src: ImagingConsentSources = {}): ImagingConsent {
  switch (model.model) {
    case "legal-basis":
      return { model: model.model, consents: () => true };
    case "opt-out-list": {
      const list = src.optOut;
      if (!list) throw new Error("imaging consent: the opt-out-list model needs the opt-out list (schema consent.file)");
      // NHS numbers are often written with spaces: compare without them, as the EHR path does
      return { model: model.model, consents: (id) => !list.ids.has(id.replace(/\s+/g, "")) };
    }
    case "fhir-consent":
    case "patient-extension": {
      const d = src.decisions;
      if (!d) throw new Error(`imaging consent: the ${model.model} model needs the consent decisions of the linked EHR export (DICOM headers carry none)`);
      // a patient the EHR export does not know has given no consent
      return { model: model.model, consents: (id) => d.get(id) === true };
    }
  }
}
