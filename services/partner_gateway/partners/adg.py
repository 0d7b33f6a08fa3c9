"""ADG, Arbeitsamt der DG (German-speaking Community, German): the format, v1.

No public specification exists. Field names are German in camelCase, written in
ASCII (``oeshz`` for ÖSHZ, the German for CPAS); code labels are the German
terms as a caseworker reads them (``Artikel 60``), in UTF-8.
"""

from contracts.regions import PartnerCode
from services.partner_gateway.vocabulary import Inbound, Outbound, Partner, Vocabulary

__all__ = ["PARTNER"]

GERMAN = Vocabulary(
    language="de",
    envelope={
        "message_id": "nachrichtId",
        "message_type": "nachrichtenTyp",
        "version": "formatVersion",
        "occurred_on": "ereignisDatum",
        "case_id": "fallReferenz",
        "cpas_kbo": "oeshzUnternehmensnummer",
        "sequence": "laufnummer",
        "sent_at": "gesendetAm",
        "niss": "inss",
    },
    outbound={
        "registration_request": Outbound(
            "anmeldungsantrag",
            {
                "niss": "inss",
                "dossier_number": "oeshzAktenzeichen",
                "family_name": "familienname",
                "given_name": "vorname",
                "birth_date": "geburtsdatum",
                "preferred_language": "sprache",
                "income_kind": "einkommensart",
                "granted_on": "bewilligtAm",
            },
        ),
        "integration_contract_signed": Outbound(
            "vseUnterzeichnet",
            {
                "niss": "inss",
                "dossier_number": "oeshzAktenzeichen",
                "piis_type": "vseTyp",
                "signed_on": "unterzeichnetAm",
                "start_date": "beginn",
                "planned_end_date": "geplantesEnde",
            },
        ),
        "phase_changed": Outbound(
            "phasenwechsel",
            {
                "niss": "inss",
                "dossier_number": "oeshzAktenzeichen",
                "from_phase": "vorherigePhase",
                "to_phase": "phase",
                "effective_date": "wirksamAb",
            },
        ),
        "article60_started": Outbound(
            "artikel60Beginn",
            {
                "niss": "inss",
                "dossier_number": "oeshzAktenzeichen",
                "start_date": "beginn",
                "planned_end_date": "geplantesEnde",
                "required_work_days": "erforderlicheArbeitstage",
                "region_scheme": "foerderregelung",
            },
        ),
        "article60_ended": Outbound(
            "artikel60Ende",
            {
                "niss": "inss",
                "dossier_number": "oeshzAktenzeichen",
                "ended_on": "endeAm",
                "early": "vorzeitig",
                "reason": "beendigungsgrund",
                "work_days_accrued": "geleisteteArbeitstage",
            },
        ),
        "case_closed": Outbound(
            "fallAbgeschlossen",
            {
                "niss": "inss",
                "dossier_number": "oeshzAktenzeichen",
                "closed_on": "abgeschlossenAm",
                "closure_reason": "abschlussgrund",
            },
        ),
        "case_erased": Outbound(
            "fallGeloescht",
            {
                "dossier_number": "oeshzAktenzeichen",
                "erased_on": "geloeschtAm",
            },
        ),
    },
    inbound={
        "registration_confirmed": Inbound(
            "anmeldungBestaetigt",
            {"kundennummer": "partner_client_id", "angemeldetAm": "registered_on"},
        ),
        "registration_rejected": Inbound("anmeldungAbgelehnt", {"grund": "reason"}),
        "training_enrolled": Inbound(
            "ausbildungBegonnen",
            {
                "ausbildungId": "training_id",
                "titel": "title",
                "anbieter": "provider",
                "beginn": "starts_on",
                "geplantesEnde": "planned_end",
            },
        ),
        "training_completed": Inbound(
            "ausbildungAbgeschlossen",
            {
                "ausbildungId": "training_id",
                "abgeschlossenAm": "completed_on",
                "zertifiziert": "certified",
            },
        ),
        "employment_started": Inbound(
            "beschaeftigungBegonnen",
            {
                "arbeitgeberUnternehmensnummer": "employer_kbo",
                "beginn": "starts_on",
                "vertragsart": "contract_type",
                "wochenstunden": "weekly_hours",
            },
        ),
        "follow_up_report": Inbound(
            "begleitbericht",
            {
                "berichtsdatum": "report_date",
                "zusammenfassung": "summary",
                "anwesenheitsquote": "attendance_rate",
                "naechsterTermin": "next_appointment",
            },
        ),
        "benefit_right_decision": Inbound(
            "arbeitslosengeldEntscheidung",
            {
                "entscheidung": "decision",
                "lfaEntscheidungsdatum": "onem_decision_date",
                "lfaReferenz": "onem_reference",
                "gezaehlteArbeitstage": "work_days_counted",
                "rechtBeginntAm": "right_start_date",
                "zahlstelle": "payment_institution",
                "grund": "reason",
                "belege": "evidence",
            },
        ),
    },
    labels={
        "phase": {
            "facilitator": "Projektbegleitung",
            "literacy": "Alphabetisierung",
            "studies_training": "Studium oder Ausbildung",
            "employment": "Beschäftigung",
            "article_60": "Artikel 60",
            "social_activation": "Soziale Aktivierung",
            "exit_employed": "Ausstieg: Beschäftigung",
            "exit_left_cpas": "Ausstieg: ÖSHZ verlassen",
            "exit_exempted": "Ausstieg: Befreiung",
        },
        "piis_type": {
            "general": "Allgemein",
            "full_time_studies": "Vollzeitstudium",
            "accompaniment": "Begleitung",
            "social_activation_volunteering": "Soziale Aktivierung: Ehrenamt",
            "social_activation_workshop": "Soziale Aktivierung: Workshop",
            "social_activation_preparation": "Soziale Aktivierung: Vorbereitung",
        },
        "income_kind": {
            "RIS": "Eingliederungseinkommen",
            "ERIS": "Gleichgestelltes Eingliederungseinkommen",
        },
        "article60_end_reason": {
            "required_days_reached": "Erforderliche Tage erreicht",
            "hired_elsewhere": "Anderswo eingestellt",
            "resigned": "Eigene Kündigung",
            "dismissed": "Entlassung",
            "health": "Gesundheit",
            "moved_away": "Umzug",
            "death": "Tod",
            "other": "Sonstiges",
        },
        "contract_type": {
            "permanent": "Unbefristet",
            "fixed_term": "Befristet",
            "interim": "Leiharbeit",
            "other": "Sonstiges",
        },
        "benefit_decision": {"opened": "Zuerkannt", "refused": "Abgelehnt"},
        "payment_institution": {
            "CAPAC": "HfA",
            "FGTB": "FGTB",
            "CSC": "CSC",
            "CGSLB": "CGSLB",
        },
        "closure_reason": {
            "moved_to_other_region": "Umzug in eine andere Region",
            "transferred_to_other_cpas": "Übergabe an ein anderes ÖSHZ",
        },
    },
)

PARTNER = Partner(
    code=PartnerCode.ADG,
    name="ADG (Arbeitsamt der DG)",
    version=1,
    legal_basis="Employment service of the German-speaking Community since the "
    "sixth state reform; a person registers there within 8 working days after a "
    "job ends. No data-exchange agreement with the ÖSHZ is public yet: the "
    "allow-list mirrors the other regions'.",
    vocabularies=(GERMAN,),
)
