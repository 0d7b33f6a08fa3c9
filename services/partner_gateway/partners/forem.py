"""Le Forem (Wallonia, French): the format the hub publishes for it, version 1.

No public specification exists: this is the format designed for the exchange the
Walloon decree on Forem and the CPAS (in force 1 January 2026) requires. It is the
hub's francophone format (`french`), which also carries the registration deadline.
"""

from contracts.regions import PartnerCode
from services.partner_gateway.partners import french
from services.partner_gateway.vocabulary import Partner

__all__ = ["PARTNER"]

FRENCH = french.vocabulary(
    job_seeker_number="numero_demandeur_emploi",
    register_by="inscrire_avant_le",
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
