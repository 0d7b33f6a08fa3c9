"""Le Forem (Wallonia, French): the format the hub publishes for it, version 1.

No public specification exists: this is the format designed for the exchange the
Walloon decree on Forem and the CPAS (in force 1 January 2026) requires.
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
                "register_by": "inscrire_avant_le",
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
                "numero_demandeur_emploi": "partner_client_id",
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

PARTNER = Partner(
    code=PartnerCode.FOREM,
    name="Le Forem",
    version=1,
    legal_basis="Walloon decree on Forem and the CPAS, in force 1 January 2026: "
    "integration-income beneficiaries register with Forem within 4 weeks of the "
    "grant, and every intervention goes into Forem's single job-seeker file; "
    "convention-cadre Forem-CPAS of 2006, renewed 2016.",
    vocabularies=(FRENCH,),
)
