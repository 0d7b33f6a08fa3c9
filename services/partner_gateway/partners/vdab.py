"""VDAB (Flanders, Dutch): the format the hub publishes for it, version 1.

It follows the conventions of VDAB's public APIs (docs/domain/partners.md): Dutch names
in camelCase (``inszNummer``, ``ocmwOndernemingsnummer``), JSON over HTTPS with
an API key. Its code labels are the Dutch ones Actiris shares (`labels`).
"""

from contracts.regions import PartnerCode
from services.partner_gateway.partners import labels
from services.partner_gateway.vocabulary import Inbound, Outbound, Partner, Vocabulary

__all__ = ["PARTNER"]

DUTCH = Vocabulary(
    language="nl",
    envelope={
        "message_id": "berichtId",
        "message_type": "berichtType",
        "version": "versie",
        "occurred_on": "gebeurtenisDatum",
        "case_id": "dossierReferentie",
        "cpas_kbo": "ocmwOndernemingsnummer",
        "sequence": "volgnummer",
        "sent_at": "verzondenOp",
        "niss": "inszNummer",
    },
    outbound={
        "registration_request": Outbound(
            "inschrijvingsaanvraag",
            {
                "niss": "inszNummer",
                "dossier_number": "ocmwDossiernummer",
                "family_name": "familienaam",
                "given_name": "voornaam",
                "birth_date": "geboortedatum",
                "preferred_language": "taalvoorkeur",
                "income_kind": "leefloonType",
                "granted_on": "toekenningsdatum",
            },
        ),
        "integration_contract_signed": Outbound(
            "gpmiOndertekend",
            {
                "niss": "inszNummer",
                "dossier_number": "ocmwDossiernummer",
                "piis_type": "gpmiType",
                "signed_on": "ondertekeningsdatum",
                "start_date": "startdatum",
                "planned_end_date": "geplandeEinddatum",
            },
        ),
        "phase_changed": Outbound(
            "faseGewijzigd",
            {
                "niss": "inszNummer",
                "dossier_number": "ocmwDossiernummer",
                "from_phase": "vorigeFase",
                "to_phase": "fase",
                "effective_date": "ingangsdatum",
            },
        ),
        "article60_started": Outbound(
            "artikel60Gestart",
            {
                "niss": "inszNummer",
                "dossier_number": "ocmwDossiernummer",
                "start_date": "startdatum",
                "planned_end_date": "geplandeEinddatum",
                "required_work_days": "vereisteArbeidsdagen",
                "region_scheme": "subsidieregeling",
            },
        ),
        "article60_ended": Outbound(
            "artikel60Beeindigd",
            {
                "niss": "inszNummer",
                "dossier_number": "ocmwDossiernummer",
                "ended_on": "einddatum",
                "early": "vroegtijdig",
                "reason": "redenEinde",
                "work_days_accrued": "gepresteerdeArbeidsdagen",
            },
        ),
        "case_closed": Outbound(
            "dossierAfgesloten",
            {
                "niss": "inszNummer",
                "dossier_number": "ocmwDossiernummer",
                "closed_on": "afsluitingsdatum",
                "closure_reason": "redenAfsluiting",
            },
        ),
        "case_erased": Outbound(
            "dossierGewist",
            {
                "dossier_number": "ocmwDossiernummer",
                "erased_on": "wissingsdatum",
            },
        ),
    },
    inbound={
        "registration_confirmed": Inbound(
            "inschrijvingBevestigd",
            {"klantnummer": "partner_client_id", "inschrijvingsdatum": "registered_on"},
        ),
        "registration_rejected": Inbound("inschrijvingGeweigerd", {"reden": "reason"}),
        "training_enrolled": Inbound(
            "opleidingGestart",
            {
                "opleidingId": "training_id",
                "titel": "title",
                "opleidingsverstrekker": "provider",
                "startdatum": "starts_on",
                "geplandeEinddatum": "planned_end",
            },
        ),
        "training_completed": Inbound(
            "opleidingVoltooid",
            {
                "opleidingId": "training_id",
                "einddatum": "completed_on",
                "gecertificeerd": "certified",
            },
        ),
        "employment_started": Inbound(
            "tewerkstellingGestart",
            {
                "werkgeverOndernemingsnummer": "employer_kbo",
                "startdatum": "starts_on",
                "contractType": "contract_type",
                "urenPerWeek": "weekly_hours",
            },
        ),
        "follow_up_report": Inbound(
            "opvolgingsverslag",
            {
                "verslagdatum": "report_date",
                "samenvatting": "summary",
                "aanwezigheidsgraad": "attendance_rate",
                "volgendeAfspraak": "next_appointment",
            },
        ),
        "benefit_right_decision": Inbound(
            "uitkeringsrechtBeslissing",
            {
                "beslissing": "decision",
                "rvaBeslissingsdatum": "onem_decision_date",
                "rvaReferentie": "onem_reference",
                "geteldeArbeidsdagen": "work_days_counted",
                "ingangsdatumRecht": "right_start_date",
                "uitbetalingsinstelling": "payment_institution",
                "reden": "reason",
                "bewijsstukken": "evidence",
            },
        ),
    },
    labels=labels.DUTCH,
)

PARTNER = Partner(
    code=PartnerCode.VDAB,
    name="VDAB",
    version=1,
    legal_basis="Flemish integration-income beneficiaries register with VDAB (2023 "
    "decision); VDAB finances temporary work experience (TWE), which replaced "
    "article 60 §7 for new jobs from 1 January 2017; VDAB's published table of "
    "personal-data exchanges and their legal bases.",
    vocabularies=(DUTCH,),
)
