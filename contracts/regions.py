"""Regions of residence and the regional employment services that serve them."""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = ["PARTNER_FOR_REGION", "PartnerCode", "Region"]


class Region(StrEnum):
    """Where a person lives, as far as employment services are concerned.

    The German-speaking Community lies inside the Walloon Region but has its own
    employment service since the sixth state reform, so it is a region here.
    """

    BRUSSELS = "brussels"
    WALLONIA = "wallonia"
    FLANDERS = "flanders"
    GERMAN_SPEAKING = "german_speaking"


class PartnerCode(StrEnum):
    """A regional public employment service a CPAS exchanges with."""

    FOREM = "forem"
    ACTIRIS = "actiris"
    VDAB = "vdab"
    ADG = "adg"


PARTNER_FOR_REGION: Final[Mapping[Region, PartnerCode]] = MappingProxyType(
    {
        Region.BRUSSELS: PartnerCode.ACTIRIS,
        Region.WALLONIA: PartnerCode.FOREM,
        Region.FLANDERS: PartnerCode.VDAB,
        Region.GERMAN_SPEAKING: PartnerCode.ADG,
    }
)
"""The employment service responsible for people living in each region."""
