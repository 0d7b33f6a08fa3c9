"""What runs where: every process of the hub and every consumer, declared once.

The service entry points, ``hub serve``, ``hub run``'s supervisor,
``hub projections rebuild``, ``hub check``, ``hub dead-letters redrive``, the
lag probes and the docker-compose test read these tables. A new consumer is a
fold projection in its own module plus one line in ``CONSUMERS``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from contracts.piis import SocialActivationEvaluatedV1, SocialActivationStartedV1
from contracts.registry import SERVICE_TOPICS, type_string
from services.common.consumer import ProjectionStore

if TYPE_CHECKING:
    from services.common.application import HubApplication
    from services.common.consumer import FoldProjection
    from services.common.settings import HubSettings

__all__ = [
    "CONSUMERS",
    "PROCESSES",
    "Applications",
    "ConsumerSpec",
    "ProcessSpec",
    "consumer",
    "consumers_of",
    "group_of",
]

T = TypeVar("T", bound="HubApplication")


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One ``hub serve`` process: what it runs and the port of its HTTP server."""

    name: str
    serve: str  # "module:function" taking (settings, stop)
    port_setting: str  # the HubSettings field of its port (/health, /ready, /metrics)

    def entry_point(self) -> Callable[..., Any]:
        """The serve function (imported only when asked for)."""
        module, function = self.serve.split(":")
        found: Callable[..., Any] = getattr(importlib.import_module(module), function)
        return found

    def port(self, settings: HubSettings) -> int:
        """The process's HTTP port under some settings."""
        value: int = getattr(settings, self.port_setting)
        return value


PROCESSES: Final[Mapping[str, ProcessSpec]] = {
    p.name: p
    for p in (
        ProcessSpec("intake-api", "services.intake.service:serve_api", "intake_port"),
        ProcessSpec(
            "intake-relay", "services.intake.service:serve_relay", "relay_metrics_port"
        ),
        ProcessSpec(
            "case-state", "services.case_state.service:serve", "case_state_port"
        ),
        ProcessSpec("piis-api", "services.piis.service:serve_api", "piis_port"),
        ProcessSpec(
            "piis-relay", "services.piis.service:serve_relay", "piis_relay_metrics_port"
        ),
        ProcessSpec(
            "placement-api", "services.placement.service:serve_api", "placement_port"
        ),
        ProcessSpec(
            "placement-relay",
            "services.placement.service:serve_relay",
            "placement_relay_metrics_port",
        ),
        ProcessSpec(
            "partner-gateway",
            "services.partner_gateway.service:serve_api",
            "partner_gateway_port",
        ),
        ProcessSpec(
            "partner-relay",
            "services.partner_gateway.service:serve_relay",
            "partner_relay_metrics_port",
        ),
    )
}


class Applications:
    """The command applications a consumer may need (a policy's), made on demand.

    A process passes the application it already runs; the CLI (a re-drive)
    gets the others made from the settings, and closes them after.
    """

    def __init__(
        self, settings: HubSettings | None, given: tuple[HubApplication, ...] = ()
    ) -> None:
        self._settings = settings
        self._apps: dict[type[Any], HubApplication] = {type(a): a for a in given}
        self._made: list[HubApplication] = []

    @property
    def settings(self) -> HubSettings | None:
        """The settings the applications are made from (None in unit tests)."""
        return self._settings

    def get(self, cls: type[T]) -> T:
        """The application of a class."""
        found = self._apps.get(cls)
        if found is None:
            if self._settings is None:
                raise LookupError(f"no {cls.__name__} in this process")
            module = importlib.import_module(
                cls.__module__.rsplit(".", 1)[0] + ".service"
            )
            found = module.create_application(self._settings)
            self._apps[cls] = found
            self._made.append(found)
        if not isinstance(found, cls):  # pragma: no cover - keyed by class
            raise TypeError(cls.__name__)
        return found

    def close(self) -> None:
        """Close the applications made here."""
        for app in self._made:
            app.close()
        self._made.clear()


def _case_state(apps: Applications) -> FoldProjection[Any]:
    from services.case_state.projection import CaseStateProjection  # noqa: PLC0415
    from services.case_state.topic import send_tombstones  # noqa: PLC0415

    if apps.settings is None:  # a rebuild's shadow: the topic is the live one's
        return CaseStateProjection()
    return CaseStateProjection(functools.partial(send_tombstones, apps.settings))


def _statistics(_: Applications) -> FoldProjection[Any]:
    from services.case_state.statistics import StatisticsProjection  # noqa: PLC0415

    return StatisticsProjection()


def _deadlines(_: Applications) -> FoldProjection[Any]:
    from services.case_state.deadlines import DeadlinesProjection  # noqa: PLC0415

    return DeadlinesProjection()


def _activation(_: Applications) -> FoldProjection[Any]:
    from services.case_state.activation import ActivationProjection  # noqa: PLC0415

    return ActivationProjection()


def _roster(_: Applications) -> FoldProjection[Any]:
    from services.case_state.roster import RosterProjection  # noqa: PLC0415

    return RosterProjection()


def _subsidies(_: Applications) -> FoldProjection[Any]:
    from services.case_state.subsidies import SubsidyProjection  # noqa: PLC0415

    return SubsidyProjection()


def _piis_facts(_: Applications) -> FoldProjection[Any]:
    from services.piis.facts import CaseFactsProjection  # noqa: PLC0415

    return CaseFactsProjection()


def _trajectory_policy(apps: Applications) -> FoldProjection[Any]:
    from services.piis.application import PiisApplication  # noqa: PLC0415
    from services.piis.placement_policy import TrajectoryPolicy  # noqa: PLC0415

    return TrajectoryPolicy(apps.get(PiisApplication))


def _sanction_policy(apps: Applications) -> FoldProjection[Any]:
    from services.intake.application import IntakeApplication  # noqa: PLC0415
    from services.intake.sanction_policy import SanctionPolicy  # noqa: PLC0415

    return SanctionPolicy(apps.get(IntakeApplication))


def _placement_facts(_: Applications) -> FoldProjection[Any]:
    from services.placement.facts import PlacementFactsProjection  # noqa: PLC0415

    return PlacementFactsProjection()


def _benefit_right_policy(apps: Applications) -> FoldProjection[Any]:
    from services.placement.application import PlacementApplication  # noqa: PLC0415
    from services.placement.partner_policy import BenefitRightPolicy  # noqa: PLC0415

    return BenefitRightPolicy(apps.get(PlacementApplication))


def _partner_outbound(_: Applications) -> FoldProjection[Any]:
    from services.partner_gateway.outbound import OutboundProjection  # noqa: PLC0415

    return OutboundProjection()


def _federal_policy(apps: Applications) -> FoldProjection[Any]:
    from services.common.row_table import RowReader  # noqa: PLC0415
    from services.partner_gateway import federal_policy as policy  # noqa: PLC0415
    from services.partner_gateway.application import (  # noqa: PLC0415
        PartnersApplication,
    )
    from services.partner_gateway.facts import RoutingFactsTable  # noqa: PLC0415

    settings = apps.settings
    if settings is None:  # listed, not run: nothing to read from
        return policy.FederalReportingPolicy(apps.get(PartnersApplication), _none, {})
    reader = RowReader(RoutingFactsTable(), settings.database_url, "partners")
    codes = policy.ins_codes(settings.cpas_ins_codes)
    app = apps.get(PartnersApplication)
    own = RowReader(
        policy.FederalReportingPolicy(app, _none, {}),
        settings.database_url,
        "federal_reporting",
    )
    return policy.FederalReportingPolicy(
        app, reader, codes, own, functools.partial(own.containing, "partners")
    )


def _none(_: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """One consumer: its fold, where it runs, what it reads, where it keeps state.

    ``services`` are the producing services: their topics are consumed and
    their event stores are what a rebuild replays. A policy reacts with
    commands (``replayable`` false): it is never replayed into a shadow.
    """

    name: str
    process: str
    schema: str
    services: tuple[str, ...]
    build: Callable[[Applications], FoldProjection[Any]]
    replayable: bool = True
    # (table, key columns, columns a rebuild may not reproduce) that a check
    # compares; by default the one table of a RowTable projection. Key
    # columns are separated by commas when the key is composite.
    compared: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    # The event types whose personal data the fold reads (None: every one).
    # A rebuild opens only their boxes: the others' are read as an erased
    # person's, with no key fetched or unwrapped and no box decrypted
    # (docs/decisions/0033-rebuild-opens-only-what-it-reads.md).
    reads_personal: frozenset[str] | None = None

    def projection(self, apps: Applications | None = None) -> FoldProjection[Any]:
        """A new instance of the consumer's fold."""
        return self.build(apps or Applications(None))

    def store(
        self, schema: str | None = None, apps: Applications | None = None
    ) -> ProjectionStore[Any]:
        """The consumer's store, in its schema or another (a rebuild's shadow)."""
        return ProjectionStore(self.projection(apps), schema or self.schema)

    def compared_tables(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """The tables ``hub check`` compares with a rebuild."""
        if self.compared:
            return self.compared
        projection: Any = self.projection()
        return ((projection.table, projection.columns[0][0], ()),)

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics consumed (without the deployment's prefix)."""
        return tuple(SERVICE_TOPICS[s] for s in self.services)

    @property
    def sources(self) -> tuple[tuple[str, str], ...]:
        """(schema, application name) of each event store a rebuild replays."""
        return tuple((s, s) for s in self.services)

    @property
    def owns_schema(self) -> bool:
        """Whether nothing else keeps tables in its schema (it can be swapped whole)."""
        others = [c for c in CONSUMERS if c.schema == self.schema and c is not self]
        return not others and self.schema not in SERVICE_TOPICS


def group_of(process: str, service: str) -> str:
    """The consumer group of a process on a service's topic (one per pair)."""
    return f"{process}.{service}"


CONSUMERS: Final[tuple[ConsumerSpec, ...]] = (
    ConsumerSpec(
        "case-state",
        "case-state",
        "case_state",
        ("intake", "piis", "placement", "partners"),
        _case_state,
        compared=(
            ("cases", "case_id", ("published_version",)),
            ("case_days", "case_id, service, day", ()),
        ),
        # The social-activation scores (an evaluation's prose is left out).
        reads_personal=frozenset(
            {
                type_string(SocialActivationStartedV1),
                type_string(SocialActivationEvaluatedV1),
            }
        ),
    ),
    ConsumerSpec(
        "statistics", "case-state", "statistics", ("intake", "piis"), _statistics
    ),
    ConsumerSpec("deadlines", "case-state", "deadlines", ("piis",), _deadlines),
    ConsumerSpec("activation", "case-state", "activation", ("piis",), _activation),
    ConsumerSpec("roster", "case-state", "roster", ("placement",), _roster),
    ConsumerSpec(
        "subsidies",
        "case-state",
        "subsidies",
        ("intake", "piis", "placement"),
        _subsidies,
    ),
    ConsumerSpec("piis-facts", "piis-api", "piis", ("intake",), _piis_facts),
    ConsumerSpec(
        "trajectory-policy",
        "piis-api",
        "piis",
        ("placement",),
        _trajectory_policy,
        replayable=False,
    ),
    ConsumerSpec(
        "sanction-policy",
        "intake-api",
        "intake",
        ("piis",),
        _sanction_policy,
        replayable=False,
    ),
    ConsumerSpec(
        "placement-facts", "placement-api", "placement", ("intake",), _placement_facts
    ),
    ConsumerSpec(
        "benefit-right-policy",
        "placement-api",
        "placement",
        ("partners",),
        _benefit_right_policy,
        replayable=False,
    ),
    ConsumerSpec(
        "partner-outbound",
        "partner-gateway",
        "partners",
        # partners: the forms submitted to SPP IS go out through the same outbox
        ("intake", "piis", "placement", "partners"),
        _partner_outbound,
        compared=(
            ("routing_facts", "case_id", ()),
            ("outbox", "message_id", ("id", "tx", "created_at")),
        ),
    ),
    ConsumerSpec(
        "federal-reporting-policy",
        "partner-gateway",
        "federal_reporting",
        ("intake", "piis"),
        _federal_policy,
        replayable=False,
    ),
)


def consumer(name: str) -> ConsumerSpec:
    """A consumer by name."""
    for spec in CONSUMERS:
        if spec.name == name:
            return spec
    names = ", ".join(c.name for c in CONSUMERS)
    raise LookupError(f"name: no consumer {name!r} (known: {names})")


def consumers_of(process: str) -> tuple[ConsumerSpec, ...]:
    """The consumers a process runs."""
    return tuple(c for c in CONSUMERS if c.process == process)
