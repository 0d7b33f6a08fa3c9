"""Actiris (Brussels, French and Dutch): the format the hub publishes for it, v1.

No public specification exists. Actiris works in both languages of Brussels, so
the format has two vocabularies of the same structure; a person is addressed in
Dutch when that is their language, in French otherwise.
"""

from contracts.regions import PartnerCode
from services.partner_gateway.vocabulary import Inbound, Outbound, Partner, Vocabulary

__all__ = ["PARTNER"]

FRENCH = Vocabulary(
    language="fr",
    envelope={
        "message_id": "identifiant_message",
        "message_type": "type_message",
        "version": "version",
        "occurred_on": "date_evenement",
        "case_id": "reference_dossier",
        "cpas_kbo": "numero_bce_cpas",
        "sequence": "numero_sequence",
        "sent_at": "date_envoi",
        "niss": "niss",
    },
    outbound={
        "registration_request": Outbound(
            "demande_inscription",
            {
                "niss": "niss",
                "dossier_number": "numero_dossier_cpas",
                "family_name": "nom",
                "given_name": "prenom",
                "birth_date": "date_naissance",
                "preferred_language": "langue",
                "income_kind": "type_revenu",
                "granted_on": "date_octroi",
            },
        ),
        "integration_contract_signed": Outbound(
            "piis_signe",
            {
                "niss": "niss",
                "dossier_number": "numero_dossier_cpas",
                "piis_type": "type_piis",
                "signed_on": "date_signature",
                "start_date": "date_debut",
                "planned_end_date": "date_fin_prevue",
            },
        ),
        "phase_changed": Outbound(
            "changement_phase",
            {
                "niss": "niss",
                "dossier_number": "numero_dossier_cpas",
                "from_phase": "phase_precedente",
                "to_phase": "phase",
                "effective_date": "date_effet",
            },
        ),
        "article60_started": Outbound(
            "debut_article_60",
            {
                "niss": "niss",
                "dossier_number": "numero_dossier_cpas",
                "start_date": "date_debut",
                "planned_end_date": "date_fin_prevue",
                "required_work_days": "jours_travail_requis",
                "region_scheme": "regime_subvention",
            },
        ),
        "article60_ended": Outbound(
            "fin_article_60",
            {
                "niss": "niss",
                "dossier_number": "numero_dossier_cpas",
                "ended_on": "date_fin",
                "early": "fin_anticipee",
                "reason": "motif_fin",
                "work_days_accrued": "jours_travail_prestes",
            },
        ),
    },
    inbound={
        "registration_confirmed": Inbound(
            "inscription_confirmee",
            {
                "numero_chercheur_emploi": "partner_client_id",
                "date_inscription": "registered_on",
            },
        ),
        "registration_rejected": Inbound("inscription_refusee", {"motif": "reason"}),
        "training_enrolled": Inbound(
            "entree_formation",
            {
                "identifiant_formation": "training_id",
                "intitule": "title",
                "operateur": "provider",
                "date_debut": "starts_on",
                "date_fin_prevue": "planned_end",
            },
        ),
        "training_completed": Inbound(
            "fin_formation",
            {
                "identifiant_formation": "training_id",
                "date_fin": "completed_on",
                "certifiee": "certified",
            },
        ),
        "employment_started": Inbound(
            "mise_a_l_emploi",
            {
                "numero_bce_employeur": "employer_kbo",
                "date_debut": "starts_on",
                "type_contrat": "contract_type",
                "heures_par_semaine": "weekly_hours",
            },
        ),
        "follow_up_report": Inbound(
            "rapport_suivi",
            {
                "date_rapport": "report_date",
                "resume": "summary",
                "taux_presence": "attendance_rate",
                "prochain_rendez_vous": "next_appointment",
            },
        ),
        "benefit_right_decision": Inbound(
            "decision_droit_allocations",
            {
                "decision": "decision",
                "date_decision_onem": "onem_decision_date",
                "reference_onem": "onem_reference",
                "jours_travail_comptes": "work_days_counted",
                "date_debut_droit": "right_start_date",
                "organisme_paiement": "payment_institution",
                "motif": "reason",
                "pieces_justificatives": "evidence",
            },
        ),
    },
    labels={
        "phase": {
            "facilitator": "facilitateur_projet",
            "literacy": "alphabetisation",
            "studies_training": "etudes_formation",
            "employment": "emploi",
            "article_60": "article_60",
            "social_activation": "activation_sociale",
            "exit_employed": "sortie_emploi",
            "exit_left_cpas": "sortie_hors_cpas",
            "exit_exempted": "sortie_dispense",
        },
        "piis_type": {
            "general": "general",
            "full_time_studies": "etudes_plein_exercice",
            "accompaniment": "accompagnement",
            "social_activation_volunteering": "activation_sociale_benevolat",
            "social_activation_workshop": "activation_sociale_atelier",
            "social_activation_preparation": "activation_sociale_preparation",
        },
        "income_kind": {"RIS": "RIS", "ERIS": "ERIS"},
        "article60_end_reason": {
            "required_days_reached": "jours_requis_atteints",
            "hired_elsewhere": "engagement_ailleurs",
            "resigned": "demission",
            "dismissed": "licenciement",
            "health": "sante",
            "moved_away": "demenagement",
            "death": "deces",
            "other": "autre",
        },
        "contract_type": {
            "permanent": "cdi",
            "fixed_term": "cdd",
            "interim": "interim",
            "other": "autre",
        },
        "benefit_decision": {"opened": "ouvert", "refused": "refuse"},
        "payment_institution": {
            "CAPAC": "CAPAC",
            "FGTB": "FGTB",
            "CSC": "CSC",
            "CGSLB": "CGSLB",
        },
    },
)

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
    labels={
        "phase": {
            "facilitator": "projectbegeleiding",
            "literacy": "alfabetisering",
            "studies_training": "studie_opleiding",
            "employment": "werk",
            "article_60": "artikel_60",
            "social_activation": "sociale_activering",
            "exit_employed": "uitstroom_werk",
            "exit_left_cpas": "uitstroom_ocmw_verlaten",
            "exit_exempted": "uitstroom_vrijstelling",
        },
        "piis_type": {
            "general": "algemeen",
            "full_time_studies": "voltijds_onderwijs",
            "accompaniment": "begeleiding",
            "social_activation_volunteering": "sociale_activering_vrijwilligerswerk",
            "social_activation_workshop": "sociale_activering_workshop",
            "social_activation_preparation": "sociale_activering_voortraject",
        },
        "income_kind": {"RIS": "leefloon", "ERIS": "equivalent_leefloon"},
        "article60_end_reason": {
            "required_days_reached": "vereiste_dagen_bereikt",
            "hired_elsewhere": "elders_aangeworven",
            "resigned": "ontslag_genomen",
            "dismissed": "ontslagen",
            "health": "gezondheid",
            "moved_away": "verhuisd",
            "death": "overlijden",
            "other": "andere",
        },
        "contract_type": {
            "permanent": "onbepaalde_duur",
            "fixed_term": "bepaalde_duur",
            "interim": "uitzendarbeid",
            "other": "andere",
        },
        "benefit_decision": {"opened": "toegekend", "refused": "geweigerd"},
        "payment_institution": {
            "CAPAC": "HVW",
            "FGTB": "ABVV",
            "CSC": "ACV",
            "CGSLB": "ACLVB",
        },
    },
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
