"""Every partner the gateway serves: adding one is a module and a line here."""

from collections.abc import Mapping
from typing import Final

from services.partner_gateway.partners import actiris, adg, forem, spp_is, vdab
from services.partner_gateway.vocabulary import PartnerTranslator, translators

__all__ = ["CHANNELS", "PARTNERS"]

PARTNERS: Final[Mapping[str, PartnerTranslator]] = translators(
    forem.PARTNER,
    actiris.PARTNER,
    vdab.PARTNER,
    adg.PARTNER,
)
"""The translator of each partner, by its code (a `contracts.regions.PartnerCode`)."""

CHANNELS: Final[tuple[str, ...]] = (*PARTNERS, spp_is.CODE)
"""Every code the gateway exchanges messages with: the regional partners and
SPP IS (federal, not routed by region: ADR 0021). Each has an outbox channel,
``partner.<code>.outbound.v1``, ``partner.<code>.inbound.v1`` and
``POST /partners/<code>/messages``."""
