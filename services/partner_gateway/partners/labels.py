"""Code labels per language, shared by the partners that use the same words.

Code set (`canonical.CODE_SETS`) → canonical code → the label. Le Forem and
Actiris label codes alike in French; VDAB and Actiris alike in Dutch. A partner
whose labels differ declares its own (ADG's German labels live in `adg`).
"""

from collections.abc import Mapping
from typing import Final

__all__ = ["DUTCH", "FRENCH"]

FRENCH: Final[Mapping[str, Mapping[str, str]]] = {
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
    "closure_reason": {
        "moved_to_other_region": "demenagement_autre_region",
        "transferred_to_other_cpas": "transfert_autre_cpas",
    },
}
"""The French labels (Le Forem, Actiris)."""

DUTCH: Final[Mapping[str, Mapping[str, str]]] = {
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
    "closure_reason": {
        "moved_to_other_region": "verhuis_andere_regio",
        "transferred_to_other_cpas": "overdracht_ander_ocmw",
    },
}
"""The Dutch labels (VDAB, Actiris)."""
