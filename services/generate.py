"""A realistic synthetic history, written through the services' own command path.

``hub generate`` (docs/generate.md) plays N beneficiaries over Y years, day by
simulated day: registrations, households (some couples, some children),
income decisions (grants, refusals, modifications, withdrawals), bilans, PIIS proposals
and signatures with their evaluations (some in person, some keyed in late,
some missing), notices, hearings and a few sanctions, phase changes, article
60 and 61 contracts with ONEM's decisions, moves, and the messages of the
person's regional employment service (registration, follow-up reports,
trainings, a job found), transfers to another CPAS, recoveries, and the
forms the gateway's federal reporting submits with SPP IS's answers.

Every command is the command the HTTP API would execute, run through the
service application (``HubApplication.execute``, ADR 0011) with a command id
derived from the seed and ``today`` the simulated day; no event is written
any other way. What another service would learn from a topic (the case facts
of the PIIS and placement services) and what its policies do with it (a
sanction suspends the payment, an article 60 contract moves the phase, a
decision makes SPP IS's forms) is done in-process with the same folds and
policies, right after the command that caused it. A command the rules
refuse is counted with its rule and skipped. The same seed gives the same
commands; running again on the same stores finds every command handled and
stores nothing new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import heapq
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from contracts.envelope import ContractEvent
from contracts.federal_reporting import FederalFormSubmittedV1
from contracts.household import HouseholdChild
from contracts.income import IncomeRightGrantedV1
from contracts.intake import BeneficiaryRegisteredV1, Orientation
from contracts.piis import Commitments, Phase
from services.case_state import subsidies
from services.common.aggregate import CommandContext, HandledCommand
from services.common.application import HubApplication, Outcome, command_digest
from services.common.consumer import NotYetError
from services.common.errors import DomainError
from services.common.http import business_time
from services.common.policy import Policy
from services.demo import make_kbo, make_niss
from services.intake.application import (
    CaseNotFoundError,
    DecideRecovery,
    GrantIncomeRight,
    IntakeApplication,
    ModifyIncomeRight,
    PartnerEntry,
    RecordBilan,
    RecordHousehold,
    RecordMove,
    RefuseIncomeApplication,
    RegisterBeneficiary,
    TransferCase,
    WithdrawIncomeRight,
)
from services.intake.parameters import AmountTable
from services.intake.sanction_policy import SanctionPolicy
from services.partner_gateway.application import PartnerMessage, PartnersApplication
from services.partner_gateway.canonical import CanonicalInbound, RoutingFacts
from services.partner_gateway.facts import routing_facts
from services.partner_gateway.federal import Answer
from services.partner_gateway.federal_policy import (
    FederalPolicyRow,
    FederalReportingPolicy,
)
from services.partner_gateway.inbound import recorded_message
from services.partner_gateway.partners import spp_is
from services.partner_gateway.routing import FACT_EVENTS, route
from services.piis.application import (
    ChangePhase,
    DecideSanction,
    EndPiis,
    EvaluatePiis,
    HoldHearing,
    PiisApplication,
    ProposePiis,
    ServeNotice,
    SignPiis,
    StartTrajectory,
)
from services.piis.case_facts import CaseFacts
from services.piis.facts import CaseFactsProjection
from services.piis.placement_policy import PHASE_AFTER_ARTICLE_60, TrajectoryPolicy
from services.placement import api as placement_api
from services.placement.application import (
    PlacementApplication,
    PlacementCommand,
    nothing_created,
)
from services.placement.domain import PlacementFacts, PlacementFile
from services.placement.facts import PlacementFactsProjection
from services.placement.periods import default_required_period

__all__ = [
    "DEFAULT_CPAS",
    "DEFAULT_INS_CODES",
    "DEFAULT_UNTIL",
    "GeneratedHub",
    "Generator",
    "HistorySpec",
    "Tally",
    "generate",
    "stored_hub",
]

# The default end of a history: fixed, never the wall clock.
DEFAULT_UNTIL: Final = dt.date(2026, 12, 31)
# The CPAS of the demo (services/demo.py), each with postal codes of its area.
DEFAULT_CPAS: Final[tuple[str, ...]] = tuple(make_kbo(2123401 + n) for n in range(4))
_POSTAL_CODES: Final[tuple[tuple[str, ...], ...]] = (
    ("4000", "4020", "4030"),  # Liège: Wallonia, Le Forem
    ("1000", "1020", "1120"),  # Brussels: Actiris
    ("9000", "9030", "9040"),  # Gent: Flanders, VDAB
    ("4700", "4701"),  # Eupen: German-speaking Community, ADG
)
# The INS code of each demo CPAS's municipality: Liège, Brussels, Gent, Eupen.
DEFAULT_INS_CODES: Final[Mapping[str, str]] = dict(
    zip(DEFAULT_CPAS, ("62063", "21004", "44021", "63023"), strict=True)
)
_LANGUAGES: Final = ("fr", "fr", "nl", "de")
# The employment service of each area, in the order of the postal codes.
_PARTNERS: Final = ("forem", "actiris", "vdab", "adg")
# What a partner writes in its own language (the partner's free text).
_PARTNER_TEXT: Final[Mapping[str, Mapping[str, str]]] = {
    "fr": {
        "title": "Aide-comptable",
        "provider": "Centre de compétence",
        "summary": "Présence régulière, progrès en bureautique.",
    },
    "nl": {
        "title": "Boekhoudkundig medewerker",
        "provider": "VDAB Competentiecentrum",
        "summary": "Regelmatig aanwezig, vooruitgang in kantoorsoftware.",
    },
    "de": {
        "title": "Buchhaltungshelfer",
        "provider": "ZAWM Eupen",
        "summary": "Regelmäßig anwesend, Fortschritte am Computer.",
    },
}
_PHASE_OF: Final[Mapping[str, Phase]] = {
    "employment": "employment",
    "training": "studies_training",
    "studies": "studies_training",
    "social_activation": "facilitator",
}
_NEXT_PHASE: Final[Mapping[str, Phase]] = {
    "facilitator": "employment",
    "literacy": "studies_training",
    "studies_training": "employment",
    "employment": "exit_employed",
}
_ORIENTATIONS: Final[tuple[Orientation, ...]] = (
    "employment",
    "employment",
    "training",
    "studies",
    "social_activation",
)
_USER_ORGANISATION: Final = make_kbo(2074680)
# How often each thing happens in a life (a share of the people it can happen to).
_MIX: Final[Mapping[str, float]] = {
    "young": 0.35,  # under 25 on the first day: a PIIS is compulsory
    "couple": 0.3,  # of the pairs of people, living together
    "parent": 0.2,  # of the others, with a dependent child
    "granted": 0.9,  # the council grants the integration income
    "piis_missing": 0.1,  # no PIIS is ever signed
    "piis_late": 0.1,  # proposed after the three months
    "evaluation_missed": 0.12,
    "keyed_late": 0.25,  # an evaluation keyed in days after it was held
    "in_person": 0.75,
    "revised": 0.2,  # an evaluation that revises the objectives
    "notice": 0.08,  # a formal notice, a hearing, a sanction
    "attended": 0.7,  # the hearing
    "phase_change": 0.4,
    "article_60": 0.3,  # of the people oriented to employment
    "article_61": 0.1,
    "user_organisation": 0.5,  # an article 60 worker made available
    "article_61_ends": 0.5,  # early, hired permanently
    "modification": 0.15,
    "move": 0.1,
    "withdrawal": 0.15,
    "recovery": 0.3,  # of the withdrawals: the weeks before, paid unduly
    "eris": 0.1,
    "partner_training": 0.6,  # of the people oriented to training or studies
    "certified": 0.7,
    "partner_job": 0.2,  # the partner reports a job found
    "transfer": 0.06,  # of the others, moves to another CPAS's area
    "form_rejected": 0.03,  # SPP IS rejects a form
}
_HALF: Final = 0.5


def _chance(rng: random.Random, what: str) -> bool:
    """Whether a thing of the mix happens, on the person's own draws."""
    return rng.random() < _MIX[what]


_EMPLOYER: Final = make_kbo(4031707)


@dataclass(frozen=True, slots=True)
class HistorySpec:
    """What to generate: how many people, over which years, at which CPAS."""

    cases: int
    years: int = 2
    cpas: tuple[str, ...] = DEFAULT_CPAS
    seed: int = 1
    until: dt.date = DEFAULT_UNTIL

    @property
    def start(self) -> dt.date:
        """The first day of the history."""
        try:
            return self.until.replace(year=self.until.year - self.years)
        except ValueError:  # 29 February
            return self.until.replace(year=self.until.year - self.years, day=28)


@dataclass
class Tally:
    """Commands per kind: stored, found handled already, refused (by rule)."""

    stored: Counter[str] = field(default_factory=Counter)
    handled: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)

    @property
    def commands(self) -> int:
        """Every command given."""
        return sum((self.stored + self.handled + self.refused).values())

    def rows(self) -> list[tuple[str, int, int, int]]:
        """(kind, stored, handled, refused), by kind."""
        kinds = sorted(set(self.stored) | set(self.handled) | set(self.refused))
        return [(k, self.stored[k], self.handled[k], self.refused[k]) for k in kinds]


class GeneratedHub:
    """The four command applications, with what they learn of each other in-process.

    The PIIS and placement services learn of cases from intake's events, the
    gateway its routing facts; here the generator folds those events into
    their facts with the consumers' own folds, and runs the policies of the
    PIIS and intake services and the gateway's federal reporting on the
    events that call for them, as soon as they are stored.
    """

    def __init__(
        self,
        envs: Mapping[str, Mapping[str, str]],
        *,
        id_secret: str = "",
        amounts: AmountTable | None = None,
        ins_codes: Mapping[str, str] = DEFAULT_INS_CODES,
    ) -> None:
        """``ins_codes``: CPAS → INS code, as ``HUB_CPAS_INS_CODES`` (ADR 0021)."""
        self.today = DEFAULT_UNTIL
        self.piis_facts: dict[uuid.UUID, CaseFacts] = {}
        self.placement_facts: dict[uuid.UUID, PlacementFacts] = {}
        self.routing: dict[uuid.UUID, RoutingFacts] = {}
        self.federal_rows: dict[uuid.UUID, FederalPolicyRow] = {}
        self.intake = IntakeApplication(
            envs["intake"],
            id_secret=id_secret,
            today=lambda: self.today,
            amounts=amounts,
        )
        self.piis = PiisApplication(
            envs["piis"], facts=self.piis_facts.get, id_secret=id_secret
        )
        self.placement = PlacementApplication(
            envs["placement"], facts=self.placement_facts.get, id_secret=id_secret
        )
        self.partners = PartnersApplication(envs["partners"], id_secret=id_secret)
        self._seen: dict[uuid.UUID, int] = {}
        self._fold_piis = CaseFactsProjection()
        self._fold_placement = PlacementFactsProjection()
        self._sanctions = SanctionPolicy(self.intake)
        self._trajectories = TrajectoryPolicy(self.piis)
        # Who names whom as partner in the federal rows (the policy's table).
        self._named_by: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._federal = FederalReportingPolicy(
            self.partners,
            self.routing.get,
            ins_codes,
            self.federal_rows.get,
            self._naming,
        )
        self.reported: set[uuid.UUID] = set()
        """Cases whose federal file the policy submitted forms on, not yet read."""

    def close(self) -> None:
        """Close the applications."""
        for app in (self.intake, self.piis, self.placement, self.partners):
            app.close()

    def _new(self, app: HubApplication, stream_id: uuid.UUID) -> list[ContractEvent]:
        seen = self._seen.get(stream_id, 0)
        events = [
            e
            for e in app.events.get(stream_id, gt=seen)
            if isinstance(e, ContractEvent)
        ]
        if events:
            self._seen[stream_id] = events[-1].stream_version
        return events

    def after_intake(self, case_id: uuid.UUID, *, fresh: bool = True) -> list[str]:
        """Fold the case's new intake events into the other services' facts.

        ``fresh``: the command stored its events. After one found handled
        (a replay on the same stores, perhaps in a new process that sees the
        case's later events too) the federal policy keeps the events' facts
        but does not react: what it submitted is on the files already, and
        its keyed alignments depend on the order it saw the events in.
        """
        events = self._new(self.intake, case_id)
        for event in events:
            piis = self._fold_piis.fold(self.piis_facts.get(case_id), event)
            if piis is not None:
                self.piis_facts[case_id] = piis
            placement = self._fold_placement.fold(
                self.placement_facts.get(case_id), event
            )
            if placement is not None:
                self.placement_facts[case_id] = placement
            self._route(event)
        return self._report(events, fresh=fresh)

    def after_piis(self, case_id: uuid.UUID, *, fresh: bool = True) -> list[str]:
        """Carry out the sanctions decided, report to SPP IS; refused rules."""
        events = self._new(self.piis, self.piis.file_id(case_id))
        refused = self._react(self._sanctions, events)
        refused += self._report(events, fresh=fresh)
        return refused + self.after_intake(case_id, fresh=fresh)

    def after_placement(
        self,
        case_id: uuid.UUID,
        *,
        fresh: bool = True,  # noqa: ARG002
    ) -> list[str]:
        """Move the phase as article 60 contracts start and end; refused rules.

        ``fresh``: as for intake; no placement event is a federal fact.
        """
        events = self._new(self.placement, self.placement.file_id(case_id))
        return self._react(self._trajectories, events)

    def federal_forms(self, case_id: uuid.UUID) -> list[FederalFormSubmittedV1]:
        """The forms on a case's federal file, oldest first."""
        file_id = self.partners.federal_file_id(case_id)
        return [
            e
            for e in self.partners.events.get(file_id)
            if isinstance(e, FederalFormSubmittedV1)
        ]

    def _react(self, policy: Policy, events: Iterable[ContractEvent]) -> list[str]:
        """A policy's reactions to a stream's new events; the rules of any refused."""
        refused = []
        for event in events:
            try:
                policy.react(event)
            except DomainError as error:
                refused.append(error.rule)
        return refused

    def _route(self, event: ContractEvent) -> None:
        """The gateway's routing facts after an intake event (its outbound fold)."""
        if isinstance(event, BeneficiaryRegisteredV1):
            self.routing[event.case_id] = routing_facts(event)
        elif isinstance(event, (*FACT_EVENTS, IncomeRightGrantedV1)):
            facts = self.routing.get(event.case_id)
            if facts is not None:
                self.routing[event.case_id] = route(event, facts)[0]

    def _report(
        self, events: Iterable[ContractEvent], *, fresh: bool = True
    ) -> list[str]:
        """The federal reporting policy's fold of new events; the rules it parks on.

        As the gateway's consumer does, an event the policy cannot report
        leaves the policy's row as it was (the consumer parks it). Not
        ``fresh`` (a replay): the facts are kept, nothing is submitted.
        """
        refused = []
        for event in events:
            if not fresh:
                kept = self._federal.remember(
                    self.federal_rows.get(event.case_id), event
                )
                if kept is not None:
                    self._keep(kept)
                continue
            try:
                row = self._federal.fold(self.federal_rows.get(event.case_id), event)
            except (DomainError, NotYetError) as error:
                refused.append(getattr(error, "rule", type(error).__name__))
                continue
            if not isinstance(row, FederalPolicyRow):
                continue
            self._keep(row)
            if row.action.startswith("submitted"):
                self.reported.add(row.case_id)
                self.reported.update(self._named_by.get(row.case_id, ()))
        return refused

    def _keep(self, row: FederalPolicyRow) -> None:
        self.federal_rows[row.case_id] = row
        case = subsidies.SubsidyFacts(row.case_id, row.cpas_kbo, row.facts)
        for partner in subsidies.partner_ids(case):
            self._named_by.setdefault(partner, set()).add(row.case_id)

    def _naming(self, case_id: uuid.UUID) -> list[FederalPolicyRow]:
        """The rows whose grants name a case as partner (ordered as the table's)."""
        return [self.federal_rows[c] for c in sorted(self._named_by.get(case_id, ()))]


@contextmanager
def stored_hub(settings: Any) -> Iterator[GeneratedHub]:
    """The generator's applications on the configured PostgreSQL stores."""
    from services.common.eventstore import (  # noqa: PLC0415
        eventstore_env,
        schema_setup,
    )
    from services.intake.parameters import default_table  # noqa: PLC0415
    from services.partner_gateway.federal_policy import ins_codes  # noqa: PLC0415

    envs = {}
    for name in ("intake", "piis", "placement", "partners"):
        envs[name] = eventstore_env(
            settings.database_url,
            app_name=name,
            schema=name,
            wait_seconds=settings.database_wait_seconds,
            master_keys_file=settings.master_keys_file,
        )
    with (
        schema_setup(settings.database_url, "intake"),
        schema_setup(settings.database_url, "piis"),
        schema_setup(settings.database_url, "placement"),
        schema_setup(settings.database_url, "partners"),
    ):
        hub = GeneratedHub(
            envs,
            id_secret=settings.id_secret,
            amounts=default_table(settings.ri_amounts_file),
            ins_codes=ins_codes(settings.cpas_ins_codes) or DEFAULT_INS_CODES,
        )
    try:
        yield hub
    finally:
        hub.close()


# What one step does: given the case's state, give the command (None: not due).
Action = Callable[["_Case"], Any]


@dataclass(order=True)
class _Step:
    day: dt.date
    index: int
    order: int
    label: str = field(compare=False)
    action: Action = field(compare=False)


@dataclass
class _Case:
    """What the generator remembers of one person while it plays their history."""

    index: int
    case_id: uuid.UUID
    cpas_kbo: str
    birth: dt.date
    rng: random.Random
    postal_codes: tuple[str, ...]
    niss: str
    area: int
    registered: bool = False
    right: bool = False
    category: int = 2
    piis_id: uuid.UUID | None = None
    piis_signed: dt.date | None = None
    phase: Phase | None = None
    contract_id: uuid.UUID | None = None
    agreement_id: uuid.UUID | None = None


def _given(kind: str, method: Callable[[Any], Any], command: Any, service: str) -> _Run:
    """A command of a service, to give to the application's method for it."""
    return _Run(kind, command, lambda: method(command), service)


@dataclass(frozen=True, slots=True)
class _Run:
    """One command to give: its kind, the command, how to run it, its service."""

    kind: str
    command: Any
    run: Callable[[], Any]
    service: str


class Generator:
    """Plays a history day by day; ``run(until)`` can be called again to go on."""

    def __init__(
        self,
        hub: GeneratedHub,
        spec: HistorySpec,
        *,
        progress: Callable[[dt.date], None] | None = None,
    ) -> None:
        self.hub = hub
        self.spec = spec
        self.tally = Tally()
        # (day, kind, command id, digest of the command): what was given.
        self.log: list[tuple[str, str, str, str]] = []
        self._progress = progress
        self._namespace = uuid.uuid5(
            uuid.NAMESPACE_URL, f"cpas-hub-generate:{spec.seed}"
        )
        self._queue: list[_Step] = []
        self._order = 0
        self.day = spec.start
        self.cases = [self._case(n) for n in range(spec.cases)]
        self._by_id = {case.case_id: case for case in self.cases}
        self._forms: set[uuid.UUID] = set()  # the federal forms counted
        self._files_read: set[uuid.UUID] = set()  # federal files read on a replay
        for case in self.cases:
            self._plan(case)

    def run(self, until: dt.date | None = None) -> Tally:
        """Give every command due up to ``until`` (default: the history's end)."""
        last = min(until or self.spec.until, self.spec.until)
        while self._queue and self._queue[0].day <= last:
            step = heapq.heappop(self._queue)
            if step.day != self.day and self._progress is not None:
                self._progress(step.day)
            self.day = max(self.day, step.day)
            self.hub.today = self.day
            built = step.action(self.cases[step.index])
            if built is not None:
                self._give(self.cases[step.index], step.label, built)
        if self._progress is not None:
            self._progress(last)
        self.day = max(self.day, last)
        return self.tally

    # The plan of one person ---------------------------------------------------

    def _case(self, index: int) -> _Case:
        spec = self.spec
        rng = random.Random(f"{spec.seed}:{index}")  # noqa: S311 - not secret
        where = index // 2 % len(spec.cpas)  # a couple: the same CPAS
        kbo = spec.cpas[where]
        young = _chance(rng, "young")
        age = rng.randint(18, 24) if young else rng.randint(25, 62)
        birth = spec.start - dt.timedelta(days=365 * age + rng.randint(0, 364))
        niss = make_niss(birth, 1 + index % 997)
        return _Case(
            index,
            self.hub.intake.case_id_for(kbo, niss),
            kbo,
            birth,
            rng,
            _POSTAL_CODES[where % len(_POSTAL_CODES)],
            niss,
            where % len(_POSTAL_CODES),
        )

    def _at(self, case: _Case, day: dt.date, label: str, action: Action) -> None:
        self._order += 1
        heapq.heappush(self._queue, _Step(day, case.index, self._order, label, action))

    def _id(self, case: _Case, label: str) -> uuid.UUID:
        return uuid.uuid5(self._namespace, f"{case.index}:{label}")

    def _context(
        self, case: _Case, label: str, day: dt.date, *, given: bool = False
    ) -> CommandContext:
        return CommandContext(
            self._id(case, label),
            business_time(day),
            given_on=self.day if given else None,
        )

    def _couple_of(self, index: int) -> int | None:
        """The partner's index when the person lives as a couple (pairs 2k, 2k+1)."""
        pair = index // 2
        other = index ^ 1
        if other >= self.spec.cases:
            return None
        draw = random.Random(f"{self.spec.seed}:pair:{pair}").random()  # noqa: S311
        return other if draw < _MIX["couple"] else None

    def _registration_day(self, index: int) -> dt.date:
        """The day a person registers (a couple: both the same day)."""
        spec = self.spec
        key = index // 2 if self._couple_of(index) is not None else index
        draw = random.Random(f"{spec.seed}:registered:{key}")  # noqa: S311
        span = (spec.until - spec.start).days
        return spec.start + dt.timedelta(days=draw.randint(0, max(span - 45, 1)))

    def _plan(self, case: _Case) -> None:
        rng = case.rng
        registered = self._registration_day(case.index)
        self._at(case, registered, "register", self._register)
        orientation = rng.choice(_ORIENTATIONS)
        partner = self._couple_of(case.index)
        household = registered + dt.timedelta(days=1)
        if partner is not None:
            case.category = 1
            self._at(case, household, "household", self._couple)
        elif _chance(rng, "parent"):
            case.category = 3
            self._at(case, household, "household", self._family)
        bilan = registered + dt.timedelta(days=rng.randint(5, 20))
        self._at(case, bilan, "bilan", lambda c: self._bilan(c, bilan, orientation))
        application = registered + dt.timedelta(days=1)
        decision = bilan + dt.timedelta(days=rng.randint(1, 20))
        granted = _chance(rng, "granted")
        if granted:
            self._at(
                case,
                decision,
                "grant",
                lambda c: self._grant(c, application, decision),
            )
        self._at(
            case,
            bilan + dt.timedelta(days=2),
            "trajectory",
            lambda c: self._start_phase(c, bilan, orientation),
        )
        self._plan_partner(case, registered, bilan, orientation)
        if granted:
            self._plan_piis(case, registered, decision, orientation)
            return
        self._at(
            case,
            decision,
            "refuse",
            lambda c: self._refuse(c, application, decision),
        )

    def _plan_partner(
        self, case: _Case, registered: dt.date, bilan: dt.date, orientation: str
    ) -> None:
        """What the person's employment service reports, numbered in its order.

        The registration as a job seeker, a follow-up report now and then, a
        training for some of those oriented to one, a job found for a few.
        Days past the history's end are never given.
        """
        rng = case.rng
        text = _PARTNER_TEXT[_LANGUAGES[case.area]]
        day = registered + dt.timedelta(days=rng.randint(3, 15))
        reports: list[tuple[dt.date, str, dict[str, Any]]] = [
            (
                day,
                "registration_confirmed",
                {
                    "partner_client_id": f"DE-{self.spec.seed}-{case.index:06d}",
                    "registered_on": day,
                },
            )
        ]
        for number in range(rng.randint(1, 3)):
            report = bilan + dt.timedelta(days=90 * (number + 1) + rng.randint(0, 20))
            reports.append(
                (
                    report,
                    "follow_up_report",
                    {
                        "report_date": report,
                        "summary": text["summary"],
                        "attendance_rate": rng.choice(("75", "87.5", "100")),
                        "next_appointment": report + dt.timedelta(days=28),
                    },
                )
            )
        training = f"T-{self.spec.seed}-{case.index:06d}"
        if orientation in {"training", "studies"} and _chance(rng, "partner_training"):
            starts = bilan + dt.timedelta(days=rng.randint(20, 45))
            ends = starts + dt.timedelta(days=rng.randint(60, 120))
            reports += [
                (
                    starts - dt.timedelta(days=7),
                    "training_enrolled",
                    {
                        "training_id": training,
                        "title": text["title"],
                        "provider": text["provider"],
                        "starts_on": starts,
                        "planned_end": ends,
                    },
                ),
                (
                    ends + dt.timedelta(days=3),
                    "training_completed",
                    {
                        "training_id": training,
                        "completed_on": ends,
                        "certified": _chance(rng, "certified"),
                    },
                ),
            ]
        if _chance(rng, "partner_job"):
            starts = bilan + dt.timedelta(days=rng.randint(120, 400))
            reports.append(
                (
                    starts - dt.timedelta(days=5),
                    "employment_started",
                    {
                        "employer_kbo": _EMPLOYER,
                        "starts_on": starts,
                        "contract_type": "fixed_term",
                        "weekly_hours": "19",
                    },
                )
            )
        reports.sort(key=lambda r: r[0])
        for sequence, (sent, kind, body) in enumerate(reports, start=1):
            self._at(
                case,
                sent,
                f"partner:{sequence}",
                functools.partial(
                    self._partner_report,
                    sequence=sequence,
                    sent=sent,
                    body={"kind": kind, **body},
                    area=case.area,
                ),
            )

    def _plan_piis(
        self, case: _Case, registered: dt.date, decision: dt.date, orientation: str
    ) -> None:
        """A compulsory PIIS within three months (some late, some never), followed."""
        rng = case.rng
        roll = rng.random()
        if roll < _MIX["piis_missing"]:
            return
        late = roll > 1 - _MIX["piis_late"]
        proposed = decision + dt.timedelta(
            days=rng.randint(95, 130) if late else rng.randint(10, 60)
        )
        signed = proposed + dt.timedelta(days=rng.randint(10, 14))
        self._at(
            case, proposed, "propose", lambda c: self._propose(c, proposed, signed)
        )
        self._at(case, signed, "sign", lambda c: self._sign(c, signed))
        for number in range(1, 4):
            held = signed + dt.timedelta(days=115 * number + rng.randint(-10, 10))
            if _chance(rng, "evaluation_missed"):
                continue
            keyed = held + dt.timedelta(
                days=rng.randint(2, 25) if _chance(rng, "keyed_late") else 0
            )
            self._at(
                case,
                keyed,
                f"evaluate:{number}",
                functools.partial(
                    self._evaluate,
                    number=number,
                    held=held,
                    in_person=_chance(rng, "in_person"),
                ),
            )
        self._plan_changes(case, registered, decision, signed, orientation)

    def _plan_changes(
        self,
        case: _Case,
        registered: dt.date,
        decision: dt.date,
        signed: dt.date,
        orientation: str,
    ) -> None:
        """What may happen once the PIIS is signed: sanctions, jobs, changes."""
        rng = case.rng
        if _chance(rng, "notice"):
            notice = signed + dt.timedelta(days=rng.randint(40, 150))
            hearing = notice + dt.timedelta(days=rng.randint(10, 14))
            decided = hearing + dt.timedelta(days=rng.randint(3, 7))
            self._at(case, notice, "notice", lambda c: self._notice(c, notice))
            self._at(case, hearing, "hearing", lambda c: self._hearing(c, hearing))
            self._at(case, decided, "sanction", lambda c: self._sanction(c, decided))
        if _chance(rng, "phase_change"):
            moved = signed + dt.timedelta(days=rng.randint(60, 300))
            self._at(case, moved, "phase", lambda c: self._next_phase(c, moved))
        placed = False
        if orientation == "employment" and _chance(rng, "article_60"):
            self._plan_article60(case, signed + dt.timedelta(days=rng.randint(30, 200)))
            placed = True
        elif orientation == "employment" and _chance(rng, "article_61"):
            self._plan_article61(case, signed + dt.timedelta(days=rng.randint(30, 200)))
            placed = True
        if _chance(rng, "modification"):
            changed = (decision + dt.timedelta(days=rng.randint(60, 400))).replace(
                day=1
            )
            self._at(case, changed, "modify", lambda c: self._modify(c, changed))
        if _chance(rng, "move"):
            moved_on = registered + dt.timedelta(days=rng.randint(30, 500))
            code = rng.choice(case.postal_codes[1:])
            moving = functools.partial(self._move, moved_on=moved_on, postal_code=code)
            self._at(case, moved_on, "move", moving)
        alone = case.category != 1 and len(self.spec.cpas) > 1
        if alone and not placed and _chance(rng, "transfer"):
            self._plan_transfer(case, signed + dt.timedelta(days=rng.randint(120, 400)))
        elif _chance(rng, "withdrawal"):
            ends = signed + dt.timedelta(days=rng.randint(165, 425))
            keyed = ends + dt.timedelta(days=rng.randint(0, 20))
            self._at(case, keyed, "withdraw", lambda c: self._withdraw(c, ends))
            self._at(case, keyed, "end_piis", lambda c: self._end_piis(c, ends))
            if _chance(rng, "recovery"):
                decided = keyed + dt.timedelta(days=rng.randint(20, 60))
                cents = rng.randint(15_000, 90_000)
                self._at(
                    case,
                    decided,
                    "recovery",
                    lambda c: self._recover(c, decided, ends, Decimal(cents) / 100),
                )

    def _plan_transfer(self, case: _Case, moved_on: dt.date) -> None:
        """A move to the next CPAS's area, and the file handed to that CPAS.

        The old CPAS keys in the move and withdraws its income right from
        the day of the move (the PIIS ends with it), then transfers the case;
        the CPAS now competent grants its own right, and the employment
        service of the new area registers the person.
        """
        rng = case.rng
        cpas = self.spec.cpas
        to = (cpas.index(case.cpas_kbo) + 1) % len(cpas)
        area = to % len(_POSTAL_CODES)
        code = rng.choice(_POSTAL_CODES[area])
        keyed = moved_on + dt.timedelta(days=rng.randint(3, 15))
        moving = functools.partial(self._move, moved_on=moved_on, postal_code=code)
        self._at(case, keyed, "relocate", functools.partial(moving, label="relocate"))
        reason = "moved to the area of another CPAS"
        self._at(
            case,
            keyed,
            "withdraw",
            lambda c: self._withdraw(c, moved_on, reason=reason),
        )
        self._at(case, keyed, "end_piis", lambda c: self._end_piis(c, moved_on))
        handed = keyed + dt.timedelta(days=1)
        self._at(
            case,
            handed,
            "transfer",
            lambda c: self._transfer(c, moved_on, cpas[to]),
        )
        decided = handed + dt.timedelta(days=rng.randint(10, 30))
        self._at(
            case,
            decided,
            "regrant",
            lambda c: self._grant(c, moved_on, decided, label="regrant"),
        )
        confirmed = decided + dt.timedelta(days=rng.randint(3, 15))
        body = {
            "kind": "registration_confirmed",
            "partner_client_id": f"DE-{self.spec.seed}-{case.index:06d}",
            "registered_on": confirmed,
        }
        self._at(
            case,
            confirmed,
            "partner:new-area:1",
            functools.partial(
                self._partner_report, sequence=1, sent=confirmed, body=body, area=area
            ),
        )

    def _plan_answer(self, case: _Case, form: FederalFormSubmittedV1) -> None:
        """SPP IS's answer on a form, a few days after it was sent."""
        draw = random.Random(f"{self.spec.seed}:answer:{form.form_id}")  # noqa: S311
        day = form.occurred_at.date() + dt.timedelta(days=draw.randint(2, 10))
        accepted = draw.random() >= _MIX["form_rejected"]
        answer = Answer(
            case_id=case.case_id,
            answer_id=f"SPPIS-{self.spec.seed}-{form.form_id.hex[:20]}",
            form_id=form.form_id,
            cpas_kbo=form.cpas_kbo,
            accepted=accepted,
            answered_on=day,
            reason_code=None if accepted else "B-0412",
            reason_text=None
            if accepted
            else "Date de décision antérieure à la date de demande",
        )
        self._at(
            case,
            day,
            f"answer:{form.form_id}",
            lambda c: self._answer(c, answer),
        )

    def _plan_article60(self, case: _Case, planned: dt.date) -> None:
        rng = case.rng
        start = planned + dt.timedelta(days=30 - planned.weekday())  # a Monday
        end = default_required_period(case.birth, start).end_date
        placed = _chance(rng, "user_organisation")
        self._at(case, planned, "a60:plan", lambda c: self._a60_plan(c, start, end))
        self._at(
            case,
            start - dt.timedelta(days=10),
            "a60:sign",
            lambda c: self._a60(
                c,
                "SignArticle60",
                "a60:sign",
                signed_on=self.day,
                start_date=start,
                planned_end_date=end,
            ),
        )
        self._at(
            case,
            start,
            "a60:start",
            lambda c: self._a60(c, "StartArticle60", "a60:start", started_on=start),
        )
        if placed:
            self._at(
                case,
                start,
                "a60:placement",
                lambda c: self._a60(
                    c,
                    "AgreePlacement",
                    "a60:placement",
                    user_organisation_kbo=_USER_ORGANISATION,
                    user_organisation_name="Régie communale des espaces verts",
                    user_organisation_kind="municipality",
                    agreement_signed_on=start - dt.timedelta(days=3),
                    placement_starts_on=start,
                ),
            )
        keyed = end + dt.timedelta(days=1)
        self._at(
            case,
            keyed,
            "a60:end",
            lambda c: self._a60(
                c,
                "EndArticle60",
                "a60:end",
                ended_on=end,
                reason="required_days_reached",
            ),
        )
        decided = end + dt.timedelta(days=rng.randint(15, 40))
        self._at(case, decided, "onem", lambda c: self._benefit_right(c, decided, end))

    def _plan_article61(self, case: _Case, signed: dt.date) -> None:
        start = signed + dt.timedelta(days=14)
        end = default_required_period(case.birth, start, article="61").end_date
        self._at(
            case, signed, "a61:sign", lambda c: self._a61_sign(c, signed, start, end)
        )
        if _chance(case.rng, "article_61_ends"):
            ended = start + dt.timedelta(days=case.rng.randint(60, 300))
            self._at(case, ended, "a61:end", lambda c: self._a61_end(c, ended))

    # The commands -------------------------------------------------------------

    def _register(self, case: _Case) -> _Run:
        index = case.index
        niss = make_niss(case.birth, 1 + index % 997)
        command = RegisterBeneficiary(
            context=self._context(case, "register", self.day),
            cpas_kbo=case.cpas_kbo,
            niss=niss,
            birth_date=case.birth,
            family_name=f"Synthetic{index}",
            given_name="Person",
            preferred_language=_LANGUAGES[index % len(_LANGUAGES)],
            postal_code=case.postal_codes[0],
            dossier_number=f"GEN{self.spec.seed}-{index:06d}",
            registered_on=self.day,
        )
        return _given(
            "register", self.hub.intake.register_beneficiary, command, "intake"
        )

    def _couple(self, case: _Case) -> _Run:
        partner = self.cases[case.index ^ 1]
        entries = (PartnerEntry(case_id=partner.case_id),)
        return self._household(case, entries, ())

    def _family(self, case: _Case) -> _Run:
        born = self.day - dt.timedelta(days=365 * case.rng.randint(1, 14))
        child = HouseholdChild(birth_date=born, unmarried=True, dependent=True)
        return self._household(case, (), (child,))

    def _household(
        self,
        case: _Case,
        partners: tuple[PartnerEntry, ...],
        children: tuple[HouseholdChild, ...],
    ) -> _Run:
        command = RecordHousehold(
            context=self._context(case, "household", self.day),
            case_id=case.case_id,
            effective_date=self.day - dt.timedelta(days=1),
            partners=partners,
            children=children,
        )
        return _given("household", self.hub.intake.record_household, command, "intake")

    def _bilan(self, case: _Case, day: dt.date, orientation: Orientation) -> _Run:
        rng = case.rng
        command = RecordBilan(
            context=self._context(case, "bilan", day),
            case_id=case.case_id,
            completed_on=day,
            author=f"sw-{case.index % 9 + 1:03d}",
            needs=("housing stability",) if rng.random() < _HALF else ("French B1",),
            strengths=("motivated",),
            obstacles=("childcare",) if case.category == 3 else (),  # noqa: PLR2004
            instrument="ZRM",
            baseline_scores={
                "work": rng.randint(10, 70),
                "social": rng.randint(20, 80),
            },
            orientation=orientation,
        )
        return _given("bilan", self.hub.intake.record_bilan, command, "intake")

    def _grant(
        self,
        case: _Case,
        application: dt.date,
        decision: dt.date,
        *,
        label: str = "grant",
    ) -> _Run:
        command = GrantIncomeRight(
            context=self._context(case, label, decision),
            case_id=case.case_id,
            kind="ERIS" if _chance(case.rng, "eris") else "RIS",
            category=case.category,
            application_date=application,
            decision_date=decision,
            effective_date=application,
        )
        return _given("grant", self.hub.intake.grant_income_right, command, "intake")

    def _refuse(self, case: _Case, application: dt.date, decision: dt.date) -> _Run:
        command = RefuseIncomeApplication(
            context=self._context(case, "refuse", decision),
            case_id=case.case_id,
            kind="RIS",
            application_date=application,
            decision_date=decision,
            reason="sufficient_resources",
            category_asked=case.category,
        )
        return _given(
            "refuse_income",
            self.hub.intake.refuse_income_application,
            command,
            "intake",
        )

    def _modify(self, case: _Case, day: dt.date) -> _Run | None:
        if not case.right:
            return None
        command = ModifyIncomeRight(
            context=self._context(case, "modify", day),
            case_id=case.case_id,
            category=case.category,
            effective_date=day,
            reason="resources reviewed",
        )
        return _given("modify", self.hub.intake.modify_income_right, command, "intake")

    def _withdraw(
        self,
        case: _Case,
        day: dt.date,
        *,
        reason: str = "income from work above the integration income",
    ) -> _Run | None:
        if not case.right:
            return None
        command = WithdrawIncomeRight(
            context=self._context(case, "withdraw", day),
            case_id=case.case_id,
            effective_date=day,
            reason=reason,
        )
        return _given(
            "withdraw", self.hub.intake.withdraw_income_right, command, "intake"
        )

    def _recover(
        self, case: _Case, day: dt.date, ended: dt.date, amount: Decimal
    ) -> _Run:
        """The income of the weeks before a withdrawal, paid unduly, recovered."""
        command = DecideRecovery(
            context=self._context(case, "recovery", day),
            case_id=case.case_id,
            decision_date=day,
            period_start=ended - dt.timedelta(days=45),
            period_end=ended - dt.timedelta(days=1),
            amount=amount,
            recovery_type="01",
            reason="undeclared_resources",
        )
        return _given("recovery", self.hub.intake.decide_recovery, command, "intake")

    def _move(
        self, case: _Case, *, moved_on: dt.date, postal_code: str, label: str = "move"
    ) -> _Run | None:
        if label == "move" and postal_code not in case.postal_codes:
            return None  # the person left the area first
        command = RecordMove(
            context=self._context(case, label, moved_on),
            case_id=case.case_id,
            postal_code=postal_code,
            moved_on=moved_on,
        )
        return _given("move", self.hub.intake.record_move, command, "intake")

    def _transfer(self, case: _Case, moved_on: dt.date, to_cpas_kbo: str) -> _Run:
        command = TransferCase(
            context=self._context(case, "transfer", self.day),
            case_id=case.case_id,
            to_cpas_kbo=to_cpas_kbo,
            dossier_number=f"TR{self.spec.seed}-{case.index:06d}",
            transferred_on=moved_on,
        )
        return _given("transfer", self.hub.intake.transfer_case, command, "intake")

    def _answer(self, case: _Case, answer: Answer) -> _Run:
        """SPP IS's acknowledgement, as the gateway records it (its own command)."""
        partners = self.hub.partners
        context = CommandContext(
            partners.command_id(spp_is.CODE, answer.answer_id),
            dt.datetime.combine(answer.answered_on, dt.time(), dt.UTC),
        )
        command = _FederalAnswer(context, answer)

        def run() -> _Answered:
            said = partners.record_federal_answer(
                case.case_id, answer.cpas_kbo, context, answer
            )
            return _Answered(created=said != "duplicate")

        return _Run("federal:answer", command, run, "partners")

    def _start_phase(self, case: _Case, day: dt.date, orientation: str) -> _Run:
        command = StartTrajectory(
            self._context(case, "trajectory", day),
            case.case_id,
            _PHASE_OF[orientation],
            day,
            "orientation after the bilan",
            f"sw-{case.index % 9 + 1:03d}",
        )
        return _given(
            "start_trajectory", self.hub.piis.start_trajectory, command, "piis"
        )

    def _next_phase(self, case: _Case, day: dt.date) -> _Run | None:
        current = case.phase
        if current is None or current not in _NEXT_PHASE:
            return None
        command = ChangePhase(
            self._context(case, "phase", day),
            case.case_id,
            current,
            _NEXT_PHASE[current],
            day,
            "the next step of the trajectory",
            f"sw-{case.index % 9 + 1:03d}",
        )
        return _given("change_phase", self.hub.piis.change_phase, command, "piis")

    def _propose(self, case: _Case, day: dt.date, signed: dt.date) -> _Run | None:
        if not case.right:
            return None
        start = signed
        command = ProposePiis(
            context=self._context(case, "propose", day),
            case_id=case.case_id,
            piis_type="general",
            proposed_on=day,
            start_date=start,
            planned_end_date=start + dt.timedelta(days=364),
            objectives=("find a job", "French B1"),
            commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
            evaluation_plan=tuple(
                start + dt.timedelta(days=115 * n) for n in (1, 2, 3)
            ),
            caseworker=f"sw-{case.index % 9 + 1:03d}",
        )
        return _given("propose_piis", self.hub.piis.propose_piis, command, "piis")

    def _sign(self, case: _Case, day: dt.date) -> _Run | None:
        if case.piis_id is None:
            return None
        command = SignPiis(
            self._context(case, "sign", day), case.case_id, case.piis_id, day
        )
        return _given("sign_piis", self.hub.piis.sign_piis, command, "piis")

    def _evaluate(
        self, case: _Case, *, number: int, held: dt.date, in_person: bool
    ) -> _Run | None:
        if case.piis_signed is None:
            return None
        command = EvaluatePiis(
            self._context(case, f"evaluate:{number}", held, given=True),
            case.case_id,
            held,
            in_person,
            "objectives revised"
            if _chance(case.rng, "revised")
            else "progress as planned",
        )
        return _given("evaluate_piis", self.hub.piis.evaluate_piis, command, "piis")

    def _end_piis(self, case: _Case, day: dt.date) -> _Run | None:
        if case.piis_signed is None or case.right:
            return None
        command = EndPiis(
            self._context(case, "end_piis", day),
            case.case_id,
            day,
            "completed",
            "the integration income ended",
        )
        return _given("end_piis", self.hub.piis.end_piis, command, "piis")

    def _notice(self, case: _Case, day: dt.date) -> _Run | None:
        if case.piis_signed is None:
            return None
        command = ServeNotice(
            self._context(case, "notice", day), case.case_id, day, "appointments missed"
        )
        return _given("serve_notice", self.hub.piis.serve_notice, command, "piis")

    def _hearing(self, case: _Case, day: dt.date) -> _Run | None:
        if case.piis_signed is None:
            return None
        command = HoldHearing(
            self._context(case, "hearing", day),
            case.case_id,
            day,
            attended=_chance(case.rng, "attended"),
        )
        return _given("hold_hearing", self.hub.piis.hold_hearing, command, "piis")

    def _sanction(self, case: _Case, day: dt.date) -> _Run | None:
        if case.piis_signed is None:
            return None
        command = DecideSanction(
            self._context(case, "sanction", day), case.case_id, day, months=1
        )
        return _given("decide_sanction", self.hub.piis.decide_sanction, command, "piis")

    def _a60_plan(self, case: _Case, start: dt.date, end: dt.date) -> _Run | None:
        if case.piis_signed is None or not case.right:
            return None
        body = placement_api.PlanArticle60(
            command_id=self._id(case, "a60:plan"),
            job_title="Maintenance worker",
            regime="full_time",
            planned_start_date=start,
            planned_end_date=end,
            caseworker=f"sw-{case.index % 9 + 1:03d}",
        )
        return self._placement(
            case,
            body,
            lambda file, context, facts: file.plan_article60(
                context, facts, **body.fields()
            ),
            answer=_created,
        )

    def _a60(self, case: _Case, kind: str, label: str, **fields: Any) -> _Run | None:
        contract = case.contract_id
        if contract is None:
            return None
        body = getattr(placement_api, kind)(command_id=self._id(case, label), **fields)
        method: Callable[..., None] = getattr(PlacementFile, _A60_METHODS[kind])

        def decide(
            file: PlacementFile, context: CommandContext, facts: PlacementFacts
        ) -> None:
            if kind == "SignArticle60":  # the one that reads the person's facts
                method(file, context, facts, contract_id=contract, **body.fields())
            else:
                method(file, context, contract_id=contract, **body.fields())

        return self._placement(case, body, decide, subject=contract)

    def _benefit_right(self, case: _Case, day: dt.date, end: dt.date) -> _Run | None:
        if case.contract_id is None:
            return None
        body = placement_api.BenefitRightDecision(
            command_id=self._id(case, "onem"),
            decision="opened",
            onem_decision_date=day,
            onem_reference=f"ONEM-{case.index:06d}",
            work_days_counted=312,
            evidence=(f"C4-{case.index:06d}",),
            right_start_date=end + dt.timedelta(days=1),
            payment_institution="CAPAC",
        )
        fields = body.fields()
        fields.pop("decision")
        return self._placement(
            case,
            body,
            lambda file, context, facts: file.record_benefit_right(
                context, facts, opened=True, channel="manual", **fields
            ),
        )

    def _a61_sign(
        self, case: _Case, signed: dt.date, start: dt.date, end: dt.date
    ) -> _Run | None:
        if case.piis_signed is None:
            return None
        body = placement_api.SignArticle61(
            command_id=self._id(case, "a61:sign"),
            employer_kbo=_EMPLOYER,
            employer_name="Boulangerie du Centre SRL",
            job_title="Baker's assistant",
            regime="full_time",
            signed_on=signed,
            start_date=start,
            planned_end_date=end,
            subsidy_flags=("activa",),
        )
        return self._placement(
            case,
            body,
            lambda file, context, facts: file.sign_article61(
                context, facts, **body.fields()
            ),
            answer=_created,
        )

    def _a61_end(self, case: _Case, day: dt.date) -> _Run | None:
        agreement = case.agreement_id
        if agreement is None:
            return None
        body = placement_api.EndArticle61(
            command_id=self._id(case, "a61:end"),
            ended_on=day,
            reason="hired_permanently",
        )
        return self._placement(
            case,
            body,
            lambda file, context, _: file.end_article61(
                context, agreement_id=agreement, **body.fields()
            ),
            subject=agreement,
        )

    def _placement(
        self,
        case: _Case,
        body: Any,
        decide: Callable[[PlacementFile, CommandContext, PlacementFacts], Any],
        *,
        answer: Callable[[PlacementFile, HandledCommand], Any] = nothing_created,
        subject: uuid.UUID | None = None,
    ) -> _Run:
        """A placement command as its HTTP route makes it (ADR 0011)."""
        context = CommandContext(body.command_id, business_time(self.day))
        kind = type(body).__name__
        command = PlacementCommand(context, kind, case.case_id, body, subject)
        return _Run(
            kind,
            command,
            lambda: self.hub.placement.handle(
                command, lambda file, facts: decide(file, context, facts), answer
            ),
            "placement",
        )

    def _partner_report(
        self,
        case: _Case,
        *,
        sequence: int,
        sent: dt.date,
        body: dict[str, Any],
        area: int,
    ) -> _Run | None:
        """A partner's message as the gateway records it (ADR 0009), once valid.

        ``area``: the partner's; one whose area the person left sends no more.
        """
        if not case.registered or area != case.area:
            return None
        code = _PARTNERS[area]
        inbound = CanonicalInbound.model_validate(
            {
                "kind": body["kind"],
                "partner": code,
                "language": _LANGUAGES[area],
                "message_id": f"GEN-{self.spec.seed}-{case.index}-{sequence}",
                "sequence": sequence,
                "sent_at": business_time(sent),
                "niss": case.niss,
                "cpas_kbo": case.cpas_kbo,
                "body": body,
            }
        )
        partners = self.hub.partners
        context, message = recorded_message(partners, inbound, inbound.content_hash())
        command = _PartnerReport(context, case.case_id, message)
        call = partners.receive_call(case.case_id, case.cpas_kbo, context, message)
        return _Run(
            f"partner:{message.kind}", command, lambda: call.run(partners), "partners"
        )

    # Giving a command ---------------------------------------------------------

    def _give(self, case: _Case, label: str, built: _Run) -> None:
        kind = built.kind
        command = built.command
        digest = command_digest(b"generate", kind, _fields(command))
        self.log.append(
            (self.day.isoformat(), kind, str(command.context.command_id), digest)
        )
        try:
            result = built.run()
        except (DomainError, CaseNotFoundError) as error:
            self.tally.refused[kind] += 1
            self.tally.rules[getattr(error, "rule", "case.unknown")] += 1
            return
        stored = (
            result.stored
            if isinstance(result, Outcome)
            else bool(getattr(result, "created", True))
        )
        (self.tally.stored if stored else self.tally.handled)[kind] += 1
        if not stored and case.case_id not in self._files_read:
            # A replay: the case's forms are on its file already, all of them
            # (the stores hold the whole history played so far); read it once.
            self._files_read.add(case.case_id)
            self.hub.reported.add(case.case_id)
        self._learn(case, label, result, command)
        after = {
            "intake": self.hub.after_intake,
            "piis": self.hub.after_piis,
            "placement": self.hub.after_placement,
            "partners": _nothing_after,
        }[built.service](case.case_id, fresh=stored)
        for rule in after or ():
            self.tally.refused["policy"] += 1
            self.tally.rules[rule] += 1
        self._take_forms(stored=stored)

    def _take_forms(self, *, stored: bool) -> None:
        """Count the forms the federal reporting submitted; plan SPP IS's answers.

        ``stored``: whether the command that led to them stored its events
        (the policy then reacted anew); after one found handled, the forms
        this generator had not seen yet were on the file already.
        """
        reported = sorted(self.hub.reported)
        self.hub.reported.clear()
        for case_id in reported:
            for form in self.hub.federal_forms(case_id):
                if form.form_id in self._forms:
                    continue
                self._forms.add(form.form_id)
                kind = f"federal:form_{form.form_kind}"
                (self.tally.stored if stored else self.tally.handled)[kind] += 1
                self._plan_answer(self._by_id[case_id], form)

    def _learn(self, case: _Case, label: str, result: Any, command: Any) -> None:
        """Remember what an accepted command did (from the command, not the store).

        The store's state now would differ on a replay on the same stores,
        which must give the same commands.
        """
        value = result.result if isinstance(result, Outcome) else result
        match label:
            case "register":
                case.registered = True
            case "grant" | "regrant":
                case.right = True
            case "relocate" | "transfer":
                _moved(case, command)
            case "withdraw":
                case.right = False
            case "propose":
                case.piis_id = value
            case "sign":
                case.piis_signed = self.day
            case "trajectory" | "phase" | "a60:start" | "a60:end":
                case.phase = _phase_after(label, command, case.phase)
            case "a60:plan":
                case.contract_id = value
            case "a61:sign":
                case.agreement_id = value
            case _:
                pass


@dataclass(frozen=True, slots=True)
class _PartnerReport:
    """A partner's message about a case, as the gateway's command."""

    context: CommandContext
    case_id: uuid.UUID
    message: PartnerMessage


@dataclass(frozen=True, slots=True)
class _FederalAnswer:
    """SPP IS's answer about a form, as the gateway's command."""

    context: CommandContext
    answer: Answer


@dataclass(frozen=True, slots=True)
class _Answered:
    """Whether an answer was stored (not found recorded already)."""

    created: bool


def _moved(case: _Case, command: RecordMove | TransferCase) -> None:
    """The person now in another CPAS's area, or that CPAS's case now."""
    if isinstance(command, RecordMove):
        case.area = next(
            n for n, codes in enumerate(_POSTAL_CODES) if command.postal_code in codes
        )
        case.postal_codes = _POSTAL_CODES[case.area]
    else:
        case.cpas_kbo = command.to_cpas_kbo
        case.piis_id = case.piis_signed = None  # the old CPAS's PIIS ended


def _nothing_after(_: uuid.UUID, *, fresh: bool) -> list[str]:  # noqa: ARG001
    """The gateway's partner files feed no policy of the generator's services."""
    return []


def _phase_after(label: str, command: Any, phase: Phase | None) -> Phase | None:
    """The dossier's phase after a command (article 60: as the policy moves it)."""
    if label == "trajectory":
        started: Phase = command.phase
        return started
    if label == "phase":
        changed: Phase = command.to_phase
        return changed
    if label == "a60:start":
        return "article_60"
    if phase == "article_60":
        return PHASE_AFTER_ARTICLE_60[command.fields.reason]
    return phase


_A60_METHODS: Final = {
    "SignArticle60": "sign_article60",
    "StartArticle60": "start_article60",
    "AgreePlacement": "agree_placement",
    "EndArticle60": "end_article60",
}


def _created(_: Any, handled: HandledCommand) -> uuid.UUID | None:
    return handled.created


def _fields(command: Any) -> Any:
    """A command's fields with its context (so the digest covers ids and dates)."""
    if dataclasses.is_dataclass(command) and not isinstance(command, type):
        values = {f.name: getattr(command, f.name) for f in dataclasses.fields(command)}
        context = values.pop("context")
        return {
            **values,
            "context": [
                str(context.command_id),
                context.occurred_at.isoformat(),
                str(context.given_on),
            ],
        }
    return command


def generate(
    hub: GeneratedHub,
    spec: HistorySpec,
    *,
    until: dt.date | None = None,
    progress: Callable[[dt.date], None] | None = None,
) -> Generator:
    """Play a history on the hub's stores up to ``until``; the generator, to go on."""
    generator = Generator(hub, spec, progress=progress)
    generator.run(until)
    return generator
