"""Re-driving a kept message: which fold projections read each consuming schema.

A consumer's dead letter is folded again by the projection of its schema that
reads its producer's topic; a partner message goes back through the gateway's
inbound desk. Used by ``hub dead-letters redrive``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg

from services.case_state.read_models import READ_MODELS
from services.common.consumer import FoldProjection, redrive
from services.common.settings import HubSettings

__all__ = ["consumer_projections", "redrive_consumer"]


@contextlib.contextmanager
def consumer_projections(
    settings: HubSettings, schema: str
) -> Iterator[Mapping[str, FoldProjection[Any]]]:
    """The fold projections of a consuming schema, by producing service."""
    # Local imports: each service is loaded only when its schema is asked for.
    for model in READ_MODELS.values():
        if model.schema == schema:
            yield {service: model.projection() for service in model.services}
            return
    if schema == "piis":
        from services.piis import service as piis  # noqa: PLC0415
        from services.piis.facts import CaseFactsProjection  # noqa: PLC0415
        from services.piis.placement_policy import TrajectoryPolicy  # noqa: PLC0415

        piis_app = piis.create_application(settings)
        try:
            yield {
                "intake": CaseFactsProjection(),
                "placement": TrajectoryPolicy(piis_app),
            }
        finally:
            piis_app.close()
    elif schema == "placement":
        from services.placement import service as placement  # noqa: PLC0415
        from services.placement.facts import PlacementFactsProjection  # noqa: PLC0415
        from services.placement.partner_policy import (  # noqa: PLC0415
            BenefitRightPolicy,
        )

        placement_app = placement.create_application(settings)
        try:
            yield {
                "intake": PlacementFactsProjection(),
                "partners": BenefitRightPolicy(placement_app),
            }
        finally:
            placement_app.close()
    elif schema == "partners":
        from services.partner_gateway.outbound import (  # noqa: PLC0415
            OutboundProjection,
        )

        yield {s: OutboundProjection() for s in ("intake", "piis", "placement")}
    else:
        raise LookupError(f"schema: {schema} has no consumer to re-drive")


async def redrive_consumer(
    settings: HubSettings, schema: str, dead_letter_id: int
) -> tuple[int, str | None]:
    """Fold a consumer's parked message (and those of its case behind it) again."""
    with consumer_projections(settings, schema) as projections:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            return await redrive(conn, schema, dead_letter_id, projections)
