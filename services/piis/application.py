"""The PIIS application: propose and sign integration contracts, grant exemptions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from contracts.piis import Commitments, Phase, PiisType
from services.common.aggregate import Aggregate, CommandContext, HandledCommand
from services.common.application import HubApplication, Outcome, created_id
from services.common.errors import DomainError
from services.piis.domain import CaseFacts, Deadline, PiisFile
from services.piis.trajectory import TrajectoryFile

__all__ = [
    "AmendPiis",
    "CaseUnknownError",
    "ChangePhase",
    "DecideSanction",
    "EndPiis",
    "EvaluatePiis",
    "EvaluateSocialActivation",
    "GrantExemption",
    "HoldHearing",
    "PiisApplication",
    "ProposePiis",
    "ServeNotice",
    "SignPiis",
    "StartSocialActivation",
    "StartTrajectory",
]


class CaseUnknownError(DomainError):
    """The PIIS service has not heard of this case (yet)."""

    def __init__(self) -> None:
        super().__init__(
            "case_id",
            "case.unknown",
            "no case with this id is known to the PIIS service (not registered at "
            "intake, or its registration has not arrived yet)",
        )


@dataclass(frozen=True, slots=True)
class ProposePiis:
    """Command: hand a draft PIIS to the person."""

    context: CommandContext
    case_id: uuid.UUID
    piis_type: PiisType
    proposed_on: dt.date
    start_date: dt.date
    planned_end_date: dt.date
    objectives: tuple[str, ...]
    commitments: Commitments
    evaluation_plan: tuple[dt.date, ...]
    caseworker: str
    general_content: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SignPiis:
    """Command: record the signature of a proposed PIIS."""

    context: CommandContext
    case_id: uuid.UUID
    piis_id: uuid.UUID
    signed_on: dt.date
    reflection_waived: bool = False
    subsidy_code: str | None = None
    waiver_reason: str | None = None


@dataclass(frozen=True, slots=True)
class GrantExemption:
    """Command: dispense the person from a PIIS (health or equity)."""

    context: CommandContext
    case_id: uuid.UUID
    ground: str
    motivation: str
    decided_on: dt.date


@dataclass(frozen=True, slots=True)
class EvaluatePiis:
    """Command: record an evaluation of the active PIIS."""

    context: CommandContext
    case_id: uuid.UUID
    evaluated_on: dt.date
    in_person: bool
    outcome: str
    next_evaluation_on: dt.date | None = None
    subsidy_prolongation_motivation: str | None = None


@dataclass(frozen=True, slots=True)
class AmendPiis:
    """Command: amend the active PIIS."""

    context: CommandContext
    case_id: uuid.UUID
    amended_on: dt.date
    objectives: tuple[str, ...]
    planned_end_date: dt.date
    evaluation_plan: tuple[dt.date, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class EndPiis:
    """Command: complete or terminate the active PIIS."""

    context: CommandContext
    case_id: uuid.UUID
    ended_on: dt.date
    outcome: str
    reason: str


@dataclass(frozen=True, slots=True)
class ServeNotice:
    """Command: serve formal notice (mise en demeure)."""

    context: CommandContext
    case_id: uuid.UUID
    served_on: dt.date
    grounds: str


@dataclass(frozen=True, slots=True)
class HoldHearing:
    """Command: record the hearing offered after a notice."""

    context: CommandContext
    case_id: uuid.UUID
    held_on: dt.date
    attended: bool


@dataclass(frozen=True, slots=True)
class DecideSanction:
    """Command: suspend payment for not respecting the PIIS (art. 30 §2)."""

    context: CommandContext
    case_id: uuid.UUID
    decided_on: dt.date
    months: int
    extent: Literal["full", "partial"] = "full"
    partial_percent: int | None = None
    stay_of_execution: bool = False


@dataclass(frozen=True, slots=True)
class StartSocialActivation:
    """Command: start a social-activation trajectory (≤ 12 months)."""

    context: CommandContext
    case_id: uuid.UUID
    activation_type: str
    starts_on: dt.date
    planned_end_date: dt.date
    piis_id: uuid.UUID | None = None
    aim: str | None = None


@dataclass(frozen=True, slots=True)
class EvaluateSocialActivation:
    """Command: measure progress against the baseline (final: it ends)."""

    context: CommandContext
    case_id: uuid.UUID
    evaluated_on: dt.date
    scores: Mapping[str, int]
    final: bool = False
    objective_achieved: bool | None = None
    partnerships: tuple[str, ...] = ()
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StartTrajectory:
    """Command: open the dossier's ISP trajectory in a first phase."""

    context: CommandContext
    case_id: uuid.UUID
    phase: Phase
    effective_date: dt.date
    reason: str
    decided_by: str


@dataclass(frozen=True, slots=True)
class ChangePhase:
    """Command: move the dossier from its current phase to another."""

    context: CommandContext
    case_id: uuid.UUID
    from_phase: Phase
    to_phase: Phase
    effective_date: dt.date
    reason: str
    decided_by: str


A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class FlagDeadline:
    """Command (of the deadline watch): record a deadline passed unmet."""

    context: CommandContext
    case_id: uuid.UUID
    deadline: Deadline
    today: dt.date


def _nothing(*_: object) -> None:
    """The answer to a retried command that created nothing."""


def _flag_decider(flag: FlagDeadline) -> Callable[[PiisFile, CaseFacts], None]:
    def decide(file: PiisFile, _: CaseFacts) -> None:
        file.flag(flag.context, flag.deadline, flag.today)

    return decide


class PiisApplication(HubApplication):
    """Owns the PIIS files of cases (schema ``piis``)."""

    name = "piis"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        facts: Callable[[uuid.UUID], CaseFacts | None],
        id_secret: str = "",
    ) -> None:
        super().__init__(env, digest_key=id_secret)
        self._facts = facts
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"cpas-hub-piis:{id_secret}")

    def facts(self, case_id: uuid.UUID) -> CaseFacts | None:
        """What intake's events told this service about a case."""
        return self._facts(case_id)

    def file_id(self, case_id: uuid.UUID) -> uuid.UUID:
        """The id of a case's PIIS file."""
        return uuid.uuid5(self._namespace, str(case_id))

    def propose_piis(self, cmd: ProposePiis) -> Outcome[uuid.UUID]:
        """Propose a PIIS; a retry returns the same PIIS id."""
        return self._act(
            cmd,
            lambda file, _: file.propose(
                cmd.context,
                piis_type=cmd.piis_type,
                proposed_on=cmd.proposed_on,
                start_date=cmd.start_date,
                planned_end_date=cmd.planned_end_date,
                objectives=cmd.objectives,
                commitments=cmd.commitments,
                evaluation_plan=cmd.evaluation_plan,
                caseworker=cmd.caseworker,
                general_content=cmd.general_content,
            ),
            created_id,
        )

    def sign_piis(self, cmd: SignPiis) -> Outcome[None]:
        """Record a signature (bilan and reflection rules)."""
        return self._act(
            cmd,
            lambda file, facts: file.sign(
                cmd.context,
                facts,
                piis_id=cmd.piis_id,
                signed_on=cmd.signed_on,
                reflection_waived=cmd.reflection_waived,
                subsidy_code=cmd.subsidy_code,
                waiver_reason=cmd.waiver_reason,
            ),
        )

    def grant_exemption(self, cmd: GrantExemption) -> Outcome[None]:
        """Dispense the person from the PIIS."""
        return self._act(
            cmd,
            lambda file, _: file.grant_exemption(
                cmd.context,
                ground=cmd.ground,
                motivation=cmd.motivation,
                decided_on=cmd.decided_on,
            ),
        )

    def evaluate_piis(self, cmd: EvaluatePiis) -> Outcome[None]:
        """Record an evaluation."""
        return self._act(
            cmd,
            lambda file, _: file.evaluate(
                cmd.context,
                evaluated_on=cmd.evaluated_on,
                in_person=cmd.in_person,
                outcome=cmd.outcome,
                next_evaluation_on=cmd.next_evaluation_on,
                subsidy_prolongation_motivation=cmd.subsidy_prolongation_motivation,
            ),
        )

    def amend_piis(self, cmd: AmendPiis) -> Outcome[None]:
        """Amend the active PIIS."""
        return self._act(
            cmd,
            lambda file, _: file.amend(
                cmd.context,
                amended_on=cmd.amended_on,
                objectives=cmd.objectives,
                planned_end_date=cmd.planned_end_date,
                evaluation_plan=cmd.evaluation_plan,
                reason=cmd.reason,
            ),
        )

    def end_piis(self, cmd: EndPiis) -> Outcome[None]:
        """Complete or terminate the active PIIS."""
        return self._act(
            cmd,
            lambda file, _: file.end(
                cmd.context,
                ended_on=cmd.ended_on,
                outcome=cmd.outcome,
                reason=cmd.reason,
            ),
        )

    def serve_notice(self, cmd: ServeNotice) -> Outcome[None]:
        """Serve formal notice."""
        return self._act(
            cmd,
            lambda file, _: file.serve_notice(
                cmd.context, served_on=cmd.served_on, grounds=cmd.grounds
            ),
        )

    def hold_hearing(self, cmd: HoldHearing) -> Outcome[None]:
        """Record a hearing."""
        return self._act(
            cmd,
            lambda file, _: file.hold_hearing(
                cmd.context, held_on=cmd.held_on, attended=cmd.attended
            ),
        )

    def decide_sanction(self, cmd: DecideSanction) -> Outcome[uuid.UUID]:
        """Decide a sanction within the legal limits; a retry answers the same id."""
        return self._act(
            cmd,
            lambda file, _: file.decide_sanction(
                cmd.context,
                decided_on=cmd.decided_on,
                months=cmd.months,
                extent=cmd.extent,
                partial_percent=cmd.partial_percent,
                stay_of_execution=cmd.stay_of_execution,
            ),
            created_id,
        )

    def watch_deadlines(self, cases: Iterable[CaseFacts], today: dt.date) -> int:
        """Flag every deadline passed unmet by ``today``; each one only once."""
        flagged = 0
        for facts in cases:
            file = self.get_file(facts.case_id) or PiisFile.open(
                self.file_id(facts.case_id), facts
            )
            for deadline in file.missed_deadlines(facts, today):
                command_id = uuid.uuid5(
                    file.id, f"deadline:{deadline.kind}:{deadline.due_on.isoformat()}"
                )
                if command_id in file.handled:
                    continue
                context = CommandContext(
                    command_id, dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
                )
                flag = FlagDeadline(context, facts.case_id, deadline, today)
                if self._act(flag, _flag_decider(flag)).stored:
                    flagged += 1
                file = self.get_file(facts.case_id) or file
        return flagged

    def start_social_activation(self, cmd: StartSocialActivation) -> Outcome[uuid.UUID]:
        """Start a social-activation trajectory; a retry returns the same id."""
        return self._act(
            cmd,
            lambda file, facts: file.start_social_activation(
                cmd.context,
                facts,
                activation_type=cmd.activation_type,
                starts_on=cmd.starts_on,
                planned_end_date=cmd.planned_end_date,
                piis_id=cmd.piis_id,
                aim=cmd.aim,
            ),
            created_id,
        )

    def evaluate_social_activation(
        self, cmd: EvaluateSocialActivation
    ) -> Outcome[None]:
        """Record a quarterly or final evaluation of social activation."""
        return self._act(
            cmd,
            lambda file, _: file.evaluate_social_activation(
                cmd.context,
                evaluated_on=cmd.evaluated_on,
                scores=dict(cmd.scores),
                final=cmd.final,
                objective_achieved=cmd.objective_achieved,
                partnerships=cmd.partnerships,
                failure_reason=cmd.failure_reason,
            ),
        )

    def start_trajectory(self, cmd: StartTrajectory) -> Outcome[uuid.UUID]:
        """Open a trajectory; a retry returns the same trajectory id."""
        return self._act_on(
            cmd,
            self.trajectory_file_id(cmd.case_id),
            cls=TrajectoryFile,
            new=lambda facts: TrajectoryFile(
                id=self.trajectory_file_id(cmd.case_id),
                case_id=facts.case_id,
                cpas_kbo=facts.cpas_kbo,
            ),
            decide=lambda file, facts: file.begin(
                cmd.context,
                dossier_number=facts.dossier_number,
                phase=cmd.phase,
                effective_date=cmd.effective_date,
                reason=cmd.reason,
                decided_by=cmd.decided_by,
            ),
            answer=created_id,
        )

    def change_phase(self, cmd: ChangePhase) -> Outcome[None]:
        """Move the dossier to another phase (from the one it is in)."""
        return self._act_on(
            cmd,
            self.trajectory_file_id(cmd.case_id),
            cls=TrajectoryFile,
            new=lambda facts: TrajectoryFile(
                id=self.trajectory_file_id(cmd.case_id),
                case_id=facts.case_id,
                cpas_kbo=facts.cpas_kbo,
            ),
            decide=lambda file, _: file.change(
                cmd.context,
                from_phase=cmd.from_phase,
                to_phase=cmd.to_phase,
                effective_date=cmd.effective_date,
                reason=cmd.reason,
                decided_by=cmd.decided_by,
            ),
        )

    def trajectory_file_id(self, case_id: uuid.UUID) -> uuid.UUID:
        """The id of a case's trajectory stream."""
        return uuid.uuid5(self._namespace, f"trajectory:{case_id}")

    def get_trajectory(
        self, case_id: uuid.UUID, *, current: bool = False
    ) -> TrajectoryFile | None:
        """The trajectory file of a case, None before its first phase."""
        return self.get_stream(
            self.trajectory_file_id(case_id), TrajectoryFile, current=current
        )

    def get_file(self, case_id: uuid.UUID, *, current: bool = False) -> PiisFile | None:
        """The PIIS file of a case, None when nothing was recorded yet."""
        return self.get_stream(self.file_id(case_id), PiisFile, current=current)

    def _act(
        self,
        cmd: Any,
        decide: Callable[[PiisFile, CaseFacts], R],
        answer: Callable[[PiisFile, HandledCommand], R] = _nothing,  # type: ignore[assignment]
    ) -> Outcome[R]:
        case_id: uuid.UUID = cmd.case_id
        return self._act_on(
            cmd,
            self.file_id(case_id),
            cls=PiisFile,
            new=lambda facts: PiisFile.open(self.file_id(case_id), facts),
            decide=decide,
            answer=answer,
        )

    def _act_on(
        self,
        cmd: Any,
        stream_id: uuid.UUID,
        *,
        cls: type[A],
        new: Callable[[CaseFacts], A],
        decide: Callable[[A, CaseFacts], R],
        answer: Callable[[A, HandledCommand], R] = _nothing,  # type: ignore[assignment]
    ) -> Outcome[R]:
        """Act on one of the case's streams, with what intake told of the case."""
        facts = self._facts(cmd.case_id)
        if facts is None:
            raise CaseUnknownError
        return self.execute(
            cmd,
            stream_id=stream_id,
            cls=cls,
            start=lambda: new(facts),
            decide=lambda stream: decide(stream, facts),
            answer=answer,
        )
