"""Actiris (Brussels, French and Dutch): the format the hub publishes for it, v1.

No public specification exists. Actiris works in both languages of Brussels, so
the format has two vocabularies of the same structure; a person is addressed in
Dutch when that is their language, in French otherwise. The French vocabulary is
the hub's francophone format (`french`); the Dutch one shares its code labels
with VDAB's (`labels`).
"""

from contracts.regions import PartnerCode
from services.partner_gateway.partners import french, labels
from services.partner_gateway.vocabulary import Inbound, Outbound, Partner, Vocabulary

__all__ = ["PARTNER"]

FRENCH = french.vocabulary(job_seeker_number="numero_chercheur_emploi")

DUTCH = Vocabulary(
    language="nl",
    envelope={
        "message_id": "bericht_id",
        "message_type": "berichttype",
        "version": "versie",
        "occurred_on": "gebeurtenisdatum",
        "case_id": "dossierreferentie",
        "cpas_kbo": "kbo_nummer_ocmw",
        "sequence": "volgnummer",
        "sent_at": "verzonden_op",
        "niss": "insz",
    },
    outbound={
        "registration_request": Outbound(
            "inschrijvingsaanvraag",
            {
                "niss": "insz",
                "dossier_number": "dossiernummer_ocmw",
                "family_name": "familienaam",
                "given_name": "voornaam",
                "birth_date": "geboortedatum",
                "preferred_language": "taal",
                "income_kind": "type_inkomen",
                "granted_on": "datum_toekenning",
            },
        ),
        "integration_contract_signed": Outbound(
            "gpmi_ondertekend",
            {
                "niss": "insz",
                "dossier_number": "dossiernummer_ocmw",
                "piis_type": "type_gpmi",
                "signed_on": "datum_ondertekening",
                "start_date": "startdatum",
                "planned_end_date": "geplande_einddatum",
            },
        ),
        "phase_changed": Outbound(
            "fase_gewijzigd",
            {
                "niss": "insz",
                "dossier_number": "dossiernummer_ocmw",
                "from_phase": "vorige_fase",
                "to_phase": "fase",
                "effective_date": "ingangsdatum",
            },
        ),
        "article60_started": Outbound(
            "artikel_60_gestart",
            {
                "niss": "insz",
                "dossier_number": "dossiernummer_ocmw",
                "start_date": "startdatum",
                "planned_end_date": "geplande_einddatum",
                "required_work_days": "vereiste_arbeidsdagen",
                "region_scheme": "subsidieregeling",
            },
        ),
        "article60_ended": Outbound(
            "artikel_60_beeindigd",
            {
                "niss": "insz",
                "dossier_number": "dossiernummer_ocmw",
                "ended_on": "einddatum",
                "early": "vroegtijdig",
                "reason": "reden_einde",
                "work_days_accrued": "gepresteerde_arbeidsdagen",
            },
        ),
        "case_closed": Outbound(
            "dossier_afgesloten",
            {
                "niss": "insz",
                "dossier_number": "dossiernummer_ocmw",
                "closed_on": "afsluitingsdatum",
                "closure_reason": "reden_afsluiting",
            },
        ),
        "case_erased": Outbound(
            "dossier_gewist",
            {
                "dossier_number": "dossiernummer_ocmw",
                "erased_on": "wissingsdatum",
            },
        ),
    },
    inbound={
        "registration_confirmed": Inbound(
            "inschrijving_bevestigd",
            {
                "werkzoekendennummer": "partner_client_id",
                "inschrijvingsdatum": "registered_on",
            },
        ),
        "registration_rejected": Inbound("inschrijving_geweigerd", {"reden": "reason"}),
        "training_enrolled": Inbound(
            "opleiding_gestart",
            {
                "opleiding_id": "training_id",
                "titel": "title",
                "opleidingsverstrekker": "provider",
                "startdatum": "starts_on",
                "geplande_einddatum": "planned_end",
            },
        ),
        "training_completed": Inbound(
            "opleiding_voltooid",
            {
                "opleiding_id": "training_id",
                "einddatum": "completed_on",
                "gecertificeerd": "certified",
            },
        ),
        "employment_started": Inbound(
            "tewerkstelling_gestart",
            {
                "kbo_nummer_werkgever": "employer_kbo",
                "startdatum": "starts_on",
                "type_contract": "contract_type",
                "uren_per_week": "weekly_hours",
            },
        ),
        "follow_up_report": Inbound(
            "opvolgingsverslag",
            {
                "verslagdatum": "report_date",
                "samenvatting": "summary",
                "aanwezigheidsgraad": "attendance_rate",
                "volgende_afspraak": "next_appointment",
            },
        ),
        "benefit_right_decision": Inbound(
            "beslissing_uitkeringsrecht",
            {
                "beslissing": "decision",
                "datum_beslissing_rva": "onem_decision_date",
                "referentie_rva": "onem_reference",
                "getelde_arbeidsdagen": "work_days_counted",
                "ingangsdatum_recht": "right_start_date",
                "uitbetalingsinstelling": "payment_institution",
                "reden": "reason",
                "bewijsstukken": "evidence",
            },
        ),
    },
    labels=labels.DUTCH,
)

PARTNER = Partner(
    code=PartnerCode.ACTIRIS,
    name="Actiris",
    version=1,
    legal_basis="Cadre de partenariat Actiris - CPAS bruxellois 2022-2027: "
    "information exchange, guidance of RI and ERIS beneficiaries, and the "
    "transition to employment at the end of an article 60 §7 job.",
    vocabularies=(FRENCH, DUTCH),
)
