"""The control grid of one beneficiary: the services' own rules, judged on the record.

Each check names its rule (the rulebook's code, whose legal source and docs
page the grid repeats), its verdict and the events it rests on. The verdicts
are the services' own: the bilan rule of a signature
(`PiisFile.check_bilan`), the signature and evaluation deadlines the daily
watch flags (`PiisFile.missed_deadlines`, ``services/piis/deadlines.py``), the
art. 30 §2 limit of a sanction (``services/common/sanctions.py``), and the
flags the placement service recorded when it signed an article 60 contract
against ONEM's required period, and the subsidy ledger's months for a PIIS
claimed as a prolongation (code 17 only with a written motivation recorded).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Final

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1
from contracts.intake import BilanCompletedV1
from contracts.piis import (
    HearingHeldV1,
    PiisEndedV1,
    PiisEvaluatedV1,
    PiisExemptionGrantedV1,
    PiisNoticeServedV1,
    PiisSanctionDecidedV1,
    PIISSignedV1,
)
from contracts.placement import Article60SignedV1
from services.audit.model import Check, LedgerLine, Verdict
from services.common.errors import DomainError
from services.common.law import LAW, add_months
from services.common.sanctions import limit_for
from services.piis.case_facts import CaseFacts
from services.piis.deadlines import Deadline
from services.piis.domain import PiisFile
from services.piis.facts import CaseFactsProjection
from services.rulebook import rulebook

__all__ = ["PROLONGATION_CODE", "control_grid"]

# The form-B code of a subsidy claimed as a prolongation: see the PIIS codes
# on form B in docs/domain/federal-reporting.md.
PROLONGATION_CODE: Final = "17"


@cache
def _sources(rule: str) -> tuple[str, str | None]:
    entry = rulebook()[rule]
    return entry.source, entry.doc


def _check(  # noqa: PLR0917 - the columns of one line of the grid
    what: str,
    rule: str,
    verdict: Verdict,
    detail: str,
    evidence: Iterable[ContractEvent],
    subject: str | None = None,
    due_on: dt.date | None = None,
    ledger_evidence: Iterable[uuid.UUID] = (),
) -> Check:
    law, doc = _sources(rule)
    return Check(
        check=what,
        rule=rule,
        law=law,
        doc=doc,
        subject=subject,
        due_on=due_on,
        verdict=verdict,
        detail=detail,
        evidence=tuple(
            dict.fromkeys([*(e.event_id for e in evidence), *ledger_evidence])
        ),
    )


def case_facts(events: Sequence[ContractEvent]) -> CaseFacts | None:
    """What the PIIS service knows of the case, folded by its own projection."""
    projection, facts = CaseFactsProjection(), None
    for event in events:
        try:
            facts = projection.fold(facts, event) or facts
        except LookupError:
            continue  # an event of a case never registered: nothing to fold
    return facts


def piis_file(events: Sequence[ContractEvent]) -> PiisFile | None:
    """The PIIS service's file of the case, folded by the aggregate itself."""
    file: PiisFile | None = None
    for event in events:
        if event.event_type.split(".")[1] != "piis":
            continue
        if file is None:
            file = PiisFile.start(event)
        file.apply(event)
    return file


def control_grid(
    events: Sequence[ContractEvent],
    as_of: dt.date,
    ledger: Sequence[LedgerLine],
) -> list[Check]:
    """Every check of one case's grid, judged on ``as_of``.

    ``ledger``: the case's subsidy ledger as of then, whose months say
    whether a prolongation was motivated.
    """
    facts = case_facts(events)
    checks: list[Check] = []
    if facts is not None:
        # A case the PIIS service has no event of has an empty file: its
        # grants are still due a PIIS.
        file = piis_file(events) or PiisFile.open(facts.case_id, facts)
        missed = file.missed_deadlines(facts, as_of)
        checks += _bilans(events, facts)
        checks += _signatures(events, facts, missed, as_of)
        checks += _evaluations(events, missed, as_of)
        checks += _prolongations(events, ledger)
    checks += _sanctions(events)
    checks += _article_60(events)
    return checks


def _bilans(events: Sequence[ContractEvent], facts: CaseFacts) -> list[Check]:
    bilans = [e for e in events if isinstance(e, BilanCompletedV1)]
    checks = []
    for signed in (e for e in events if isinstance(e, PIISSignedV1)):
        before = [b for b in bilans if b.completed_on <= signed.signed_on]
        try:
            PiisFile.check_bilan(facts, signed.signed_on)
        except DomainError:
            verdict: Verdict = "finding"
            detail = f"signed on {signed.signed_on} with no bilan dated by then"
        else:
            verdict = "met"
            first = min(b.completed_on for b in before)
            detail = f"bilan of {first}, PIIS signed on {signed.signed_on}"
        checks.append(
            _check(
                "bilan before the PIIS",
                "piis.no_bilan",
                verdict,
                detail,
                [*before[:1], signed],
                f"PIIS {signed.piis_id}",
            )
        )
    return checks


def _signatures(
    events: Sequence[ContractEvent],
    facts: CaseFacts,
    missed: list[Deadline],
    as_of: dt.date,
) -> list[Check]:
    signed = [e for e in events if isinstance(e, PIISSignedV1)]
    exempted = [e for e in events if isinstance(e, PiisExemptionGrantedV1)]
    granted = {e.right_id: e for e in events if isinstance(e, IncomeRightGrantedV1)}
    checks = []
    for grant in facts.grants:
        if not grant.compulsory:
            continue
        months = LAW.value("piis.sign_months", grant.decided_on, field="decision_date")
        due = add_months(grant.decided_on, months)
        found = next((d for d in missed if d.right_id == grant.right_id), None)
        answering = [s for s in signed if s.signed_on >= grant.decided_on] or exempted
        evidence = [granted[grant.right_id], *answering[:1]]
        verdict: Verdict
        if found is not None and found.signed_on is not None:
            verdict = "finding"
            detail = f"due on {due}, signed late on {found.signed_on}"
        elif found is not None:
            verdict = "finding"
            detail = f"due on {due}, not signed by {as_of}"
        elif as_of <= due:
            verdict, detail = "not_due", f"due on {due}"
        elif grant.withdrawn_on is not None and grant.withdrawn_on <= due:
            verdict, detail = "met", f"right withdrawn on {grant.withdrawn_on}"
        else:
            verdict, detail = "met", f"due on {due}, signed or exempted in time"
        checks.append(
            _check(
                "PIIS signed within three months of the grant",
                "deadline.piis_not_signed",
                verdict,
                detail,
                evidence,
                f"income right {grant.right_id}",
                due,
            )
        )
    return checks


def _evaluations(
    events: Sequence[ContractEvent], missed: list[Deadline], as_of: dt.date
) -> list[Check]:
    ended = {e.piis_id for e in events if isinstance(e, PiisEndedV1)}
    checks = []
    for signed in (e for e in events if isinstance(e, PIISSignedV1)):
        held = [
            e
            for e in events
            if isinstance(e, PiisEvaluatedV1) and e.piis_id == signed.piis_id
        ]
        short = [
            d
            for d in missed
            if d.kind == "evaluations_missing" and d.piis_id == signed.piis_id
        ]
        subject = f"PIIS {signed.piis_id}"
        for deadline in short:
            start = deadline.window_start or signed.start_date
            inside = [e for e in held if start <= e.evaluated_on <= deadline.due_on]
            checks.append(
                _check(
                    "three evaluations a year, two in person",
                    "deadline.evaluations_missing",
                    "finding",
                    f"{len(inside)} evaluation(s), "
                    f"{sum(e.in_person for e in inside)} in person, from {start} "
                    f"to {deadline.due_on}",
                    [signed, *inside],
                    subject,
                    deadline.due_on,
                )
            )
        if short:
            continue
        months = LAW.value(
            "piis.evaluation_window_months", signed.start_date, field="evaluated_on"
        )
        first_window = add_months(signed.start_date, months)
        counted = (
            f"{len(held)} evaluation(s), {sum(e.in_person for e in held)} in person"
        )
        verdict: Verdict = "met"
        detail = f"{counted}, no twelve months short"
        if signed.piis_id not in ended and first_window >= as_of:
            # In force and not a whole window lived yet: nothing is due.
            verdict = "not_due"
            detail = f"{counted}, first twelve months end on {first_window}"
        checks.append(
            _check(
                "three evaluations a year, two in person",
                "deadline.evaluations_missing",
                verdict,
                detail,
                [signed, *held],
                subject,
                first_window if verdict == "not_due" else None,
            )
        )
    return checks


def _sanctions(events: Sequence[ContractEvent]) -> list[Check]:
    """Each sanction after its notice and hearing, within art. 30 §2's months.

    The steps are read in the PIIS file's order, as the service keeps them: a
    notice opens, a hearing after it is held, a sanction or the PIIS's end
    closes it.
    """
    checks = []
    notice: PiisNoticeServedV1 | None = None
    hearing: HearingHeldV1 | None = None
    earlier: list[dt.date] = []
    for event in events:
        match event:
            case PiisNoticeServedV1():
                notice, hearing = event, None
            case HearingHeldV1() if notice is not None:
                hearing = event
            case PiisEndedV1():
                notice, hearing = None, None
            case PiisSanctionDecidedV1():
                checks += _sanction(event, notice, hearing, earlier)
                earlier.append(event.decided_on)
                notice, hearing = None, None
            case _:
                pass
    return checks


def _sanction(
    sanction: PiisSanctionDecidedV1,
    notice: PiisNoticeServedV1 | None,
    hearing: HearingHeldV1 | None,
    earlier: list[dt.date],
) -> list[Check]:
    subject = f"sanction {sanction.sanction_id or sanction.event_id}"
    on = sanction.decided_on
    noticed = notice is not None and notice.served_on <= on
    heard = hearing is not None and hearing.held_on <= on
    limit = limit_for("piis", on, earlier)
    return [
        _check(
            "sanction after formal notice",
            "sanction.no_notice",
            "met" if noticed else "finding",
            f"notice served on {notice.served_on}, sanction decided on {on}"
            if notice is not None and noticed
            else f"sanction decided on {on} with no notice served before",
            [e for e in (notice, sanction) if e is not None],
            subject,
        ),
        _check(
            "sanction after a hearing",
            "sanction.no_hearing",
            "met" if heard else "finding",
            f"hearing on {hearing.held_on}, sanction decided on {on}"
            if hearing is not None and heard
            else f"sanction decided on {on} with no hearing held before",
            [e for e in (hearing, sanction) if e is not None],
            subject,
        ),
        _check(
            "sanction within the months art. 30 §2 allows",
            "sanction.too_long",
            "met" if sanction.months <= limit.months else "finding",
            f"{sanction.months} month(s), at most {limit.months} for a "
            f"{'repeat' if limit.repeat else 'first'} sanction",
            [sanction],
            subject,
        ),
    ]


def _prolongations(
    events: Sequence[ContractEvent], ledger: Sequence[LedgerLine]
) -> list[Check]:
    """Each prolongation the ledger gives, and each PIIS typed as one.

    The ledger gives code 17 (and form B carries it) only from the first day
    of a further year with a PIIS in force on the last day before it and a
    written motivation recorded in that year (ADR 0022): each prolongation it
    gives is listed met, with the motivation among its evidence. A PIIS the
    CPAS signed typing code 17 where the ledger gives none from its start is
    a finding: the CPAS believed it claimed a prolongation the record does
    not support. The grid does not judge the motivation a second time.
    """
    checks = []
    before: str | None = None
    for month in ledger:
        if month.piis_code == PROLONGATION_CODE and before != PROLONGATION_CODE:
            checks.append(
                _check(
                    "written motivation of the subsidy's prolongation",
                    "audit.prolongation_motivation",
                    "met",
                    f"the ledger gives code {PROLONGATION_CODE} from {month.month}: "
                    "a PIIS in force on the last day of the year before and a "
                    "written motivation recorded in it",
                    [],
                    f"prolongation from {month.month}",
                    ledger_evidence=month.event_ids,
                )
            )
        before = month.piis_code
    for signed in events:
        if not (
            isinstance(signed, PIISSignedV1)
            and signed.subsidy_code == PROLONGATION_CODE
        ):
            continue
        months = [m for m in ledger if m.month >= signed.start_date.isoformat()[:7]]
        if any(m.piis_code == PROLONGATION_CODE for m in months):
            continue  # listed above, with its motivation
        claimed = f"PIIS signed on {signed.signed_on} typed code {PROLONGATION_CODE}"
        if months:
            verdict: Verdict = "finding"
            detail = (
                f"{claimed}; the ledger gives no prolongation from its start "
                f"({months[0].month}: {months[0].piis_status})"
            )
            ids = months[0].event_ids
        else:
            verdict, ids = "not_due", ()
            detail = f"{claimed}; no month of income from its start by the audit date"
        checks.append(
            _check(
                "written motivation of the subsidy's prolongation",
                "audit.prolongation_motivation",
                verdict,
                detail,
                [signed],
                f"PIIS {signed.piis_id}",
                ledger_evidence=ids,
            )
        )
    return checks


# The placement service's flags on a contract's required period.
_NOT_BY_ONEM_FLAG: Final = "required_period.not_calculated_by_onem"
_EARLIER_START_FLAG: Final = "required_period.onem_end_date_for_earlier_start"


def _article_60(events: Sequence[ContractEvent]) -> list[Check]:
    checks = []
    for signed in (e for e in events if isinstance(e, Article60SignedV1)):
        subject = f"article 60 contract {signed.contract_id}"
        what = "article 60 duration against ONEM's required period"
        if signed.required_period_source != "onem" or _NOT_BY_ONEM_FLAG in signed.flags:
            checks.append(
                _check(
                    what,
                    "required_period.not_calculated_by_onem",
                    "finding",
                    f"signed on {signed.signed_on} on the rule table's "
                    f"{signed.required_work_days} work days: ONEM was not asked",
                    [signed],
                    subject,
                )
            )
        elif _EARLIER_START_FLAG in signed.flags:
            checks.append(
                _check(
                    what,
                    "required_period.onem_end_date_for_earlier_start",
                    "finding",
                    f"planned to end on {signed.planned_end_date}, after ONEM's "
                    f"{signed.onem_required_period_end} calculated for an earlier "
                    "start",
                    [signed],
                    subject,
                )
            )
        else:
            checks.append(
                _check(
                    what,
                    "article60.after_onem_end_date",
                    "met",
                    f"planned to end on {signed.planned_end_date}, ONEM's end "
                    f"{signed.onem_required_period_end}, "
                    f"{signed.required_work_days} work days",
                    [signed],
                    subject,
                )
            )
    return checks
