"""Every partner the gateway serves: adding one is a module and a line here."""

from collections.abc import Mapping
from typing import Final

from services.partner_gateway.partners import actiris, adg, forem, vdab
from services.partner_gateway.vocabulary import PartnerTranslator, translators

__all__ = ["PARTNERS"]

PARTNERS: Final[Mapping[str, PartnerTranslator]] = translators(
    forem.PARTNER,
    actiris.PARTNER,
    vdab.PARTNER,
    adg.PARTNER,
)
"""The translator of each partner, by its code (a `contracts.regions.PartnerCode`)."""
