"""The hub's francophone format: the French vocabulary Le Forem and Actiris share.

Both partners receive and send the same French field names, message types and
code labels; they differ only where `vocabulary` takes a parameter.
"""

from services.partner_gateway.partners import labels
from services.partner_gateway.vocabulary import Inbound, Outbound, Vocabulary

__all__ = ["vocabulary"]


def vocabulary(*, job_seeker_number: str, register_by: str | None = None) -> Vocabulary:
    """The French vocabulary, with a partner's own names where they differ.

    Args:
        job_seeker_number: The partner's name of its job-seeker number (the
            ``partner_client_id`` it confirms a registration with).
        register_by: The name of the registration deadline the partner receives
            (``register_by``), or None if it receives none.
    """
    return Vocabulary(
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
                    **({} if register_by is None else {"register_by": register_by}),
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
            "case_closed": Outbound(
                "cloture_dossier",
                {
                    "niss": "niss",
                    "dossier_number": "numero_dossier_cpas",
                    "closed_on": "date_cloture",
                    "closure_reason": "motif_cloture",
                },
            ),
            "case_erased": Outbound(
                "effacement_dossier",
                {
                    "dossier_number": "numero_dossier_cpas",
                    "erased_on": "date_effacement",
                },
            ),
        },
        inbound={
            "registration_confirmed": Inbound(
                "inscription_confirmee",
                {
                    job_seeker_number: "partner_client_id",
                    "date_inscription": "registered_on",
                },
            ),
            "registration_rejected": Inbound(
                "inscription_refusee", {"motif": "reason"}
            ),
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
        labels=labels.FRENCH,
    )
