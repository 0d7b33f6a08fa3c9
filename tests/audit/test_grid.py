"""The control grid says what the services' rules say, with rule, law, evidence."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1
from contracts.intake import BeneficiaryRegisteredV1, BilanCompletedV1
from contracts.piis import (
    HearingHeldV1,
    PiisEvaluatedV1,
    PiisNoticeServedV1,
    PiisSanctionDecidedV1,
    PIISSignedV1,
)
from contracts.placement import Article60SignedV1
from services.audit.grid import control_grid
from services.audit.model import Check
from services.audit.sections import LedgerReplay
from services.case_state.subsidies import Window
from services.rulebook import rulebook
from tests.contracts.samples import KBO, SAMPLES


def sample(kind: type[ContractEvent], **changes: Any) -> Any:
    found = next(s for s in SAMPLES if isinstance(s, kind))
    return found.model_copy(update=changes) if changes else found


REGISTERED = sample(BeneficiaryRegisteredV1)
BILAN = sample(BilanCompletedV1)  # completed on 2026-03-20
GRANT = sample(IncomeRightGrantedV1)  # decided on 2026-03-10, PIIS compulsory
SIGNED = sample(PIISSignedV1)  # signed on 2026-04-10
EVALUATED = sample(PiisEvaluatedV1)  # 2026-07-10, in person
NOTICE, HEARING = sample(PiisNoticeServedV1), sample(HearingHeldV1)
SANCTION = sample(PiisSanctionDecidedV1)  # decided on 2026-09-20, one month


def grid(events: list[ContractEvent], as_of: dt.date) -> list[Check]:
    # The case's own subsidy ledger (no partner), as the report gives it.
    ledger = LedgerReplay(KBO, Window(as_of=as_of), {}).lines(events)
    return control_grid(events, as_of, ledger)


def line(checks: list[Check], rule: str) -> Check:
    [found] = [c for c in checks if c.rule == rule]
    return found


def test_every_line_cites_its_rule_source_and_page_from_the_rulebook() -> None:
    events = [REGISTERED, BILAN, GRANT, SIGNED, EVALUATED, NOTICE, HEARING, SANCTION]
    checks = grid(events, dt.date(2026, 10, 1))
    assert {c.rule for c in checks} >= {
        "piis.no_bilan",
        "deadline.piis_not_signed",
        "deadline.evaluations_missing",
        "sanction.no_notice",
        "sanction.no_hearing",
        "sanction.too_long",
    }
    for check in checks:
        rule = rulebook()[check.rule]
        assert (check.law, check.doc) == (rule.source, rule.doc)
        assert check.evidence
    assert {c.rule: c.verdict for c in checks if c.verdict != "met"} == {
        "deadline.evaluations_missing": "not_due"  # not a whole year lived yet
    }


def test_royal_decree_11_july_2002_art11_evaluations_are_judged_once_a_year_was_lived() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    events = [REGISTERED, BILAN, GRANT, SIGNED, EVALUATED]
    young = line(grid(events, dt.date(2027, 4, 10)), "deadline.evaluations_missing")
    assert (young.verdict, young.due_on) == ("not_due", dt.date(2027, 4, 10))
    assert (
        young.detail
        == "1 evaluation(s), 1 in person, first twelve months end on 2027-04-10"
    )
    held = [
        EVALUATED.model_copy(
            update={
                "evaluated_on": day,
                "event_id": uuid.uuid5(uuid.NAMESPACE_OID, str(day)),
            }
        )
        for day in (dt.date(2026, 10, 10), dt.date(2027, 1, 10))
    ]
    judged = line(
        grid([*events, *held], dt.date(2027, 4, 20)), "deadline.evaluations_missing"
    )
    assert judged.verdict == "met"
    assert judged.evidence == (
        SIGNED.event_id,
        EVALUATED.event_id,
        *(e.event_id for e in held),
    )


def test_ar_11_july_2002_art11_a_piis_signed_before_its_bilan_is_a_finding() -> None:
    early = SIGNED.model_copy(update={"signed_on": dt.date(2026, 3, 15)})
    found = line(
        grid([REGISTERED, BILAN, GRANT, early], dt.date(2026, 4, 1)), "piis.no_bilan"
    )
    assert (found.verdict, found.evidence) == ("finding", (early.event_id,))


def test_law_26_may_2002_art11_a_grant_without_piis_in_three_months_is_a_finding() -> (
    None
):
    events = [REGISTERED, BILAN, GRANT]
    before = line(grid(events, dt.date(2026, 6, 10)), "deadline.piis_not_signed")
    assert (before.verdict, before.detail) == ("not_due", "due on 2026-06-10")
    after = line(grid(events, dt.date(2026, 6, 11)), "deadline.piis_not_signed")
    assert after.verdict == "finding"
    assert after.evidence == (GRANT.event_id,)
    late = SIGNED.model_copy(update={"signed_on": dt.date(2026, 6, 20)})
    signed_late = line(
        grid([*events, late], dt.date(2026, 7, 1)), "deadline.piis_not_signed"
    )
    assert signed_late.verdict == "finding"
    assert signed_late.detail == "due on 2026-06-10, signed late on 2026-06-20"
    assert signed_late.evidence == (GRANT.event_id, late.event_id)


def test_royal_decree_11_july_2002_art11_a_year_short_of_evaluations_is_a_finding() -> (
    None
):
    events = [REGISTERED, BILAN, GRANT, SIGNED, EVALUATED]
    found = line(grid(events, dt.date(2027, 4, 20)), "deadline.evaluations_missing")
    assert found.verdict == "finding"
    assert found.detail == "1 evaluation(s), 1 in person, from 2026-04-10 to 2027-04-10"
    assert found.evidence == (SIGNED.event_id, EVALUATED.event_id)


def test_law_26_may_2002_art30_par2_a_sanction_without_notice_hearing_or_too_long_is_a_finding() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    events = [REGISTERED, BILAN, GRANT, SIGNED, NOTICE, SANCTION]
    checks = grid(events, dt.date(2026, 10, 1))
    assert line(checks, "sanction.no_notice").verdict == "met"
    unheard = line(checks, "sanction.no_hearing")
    assert (unheard.verdict, unheard.evidence) == ("finding", (SANCTION.event_id,))
    no_notice = grid([REGISTERED, BILAN, GRANT, SIGNED, SANCTION], dt.date(2026, 10, 1))
    assert line(no_notice, "sanction.no_notice").verdict == "finding"
    too_long = SANCTION.model_copy(update={"months": 2})
    longer = grid([*events[:-1], HEARING, too_long], dt.date(2026, 10, 1))
    assert line(longer, "sanction.too_long").verdict == "finding"


def test_law_21_july_2016_a_prolongation_claimed_with_its_motivation_recorded_is_met() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    # Signed 2026-04-10: the first year runs to March 2027; a motivation
    # written at an evaluation in it, the PIIS in force on its last day.
    prolonged = SIGNED.model_copy(update={"subsidy_code": "17"})
    motivated = EVALUATED.model_copy(
        update={
            "evaluated_on": dt.date(2027, 2, 10),
            "subsidy_prolongation_motivation": "needs a second year of training",
        }
    )
    events = [REGISTERED, BILAN, GRANT, prolonged, EVALUATED, motivated]
    found = line(grid(events, dt.date(2027, 5, 1)), "audit.prolongation_motivation")
    assert found.verdict == "met"
    assert "2027-04" in found.detail
    assert {prolonged.event_id, motivated.event_id} <= set(found.evidence)
    plain = grid([REGISTERED, BILAN, GRANT, SIGNED], dt.date(2027, 5, 1))
    assert "audit.prolongation_motivation" not in {c.rule for c in plain}


def test_law_21_july_2016_every_prolongation_the_ledger_gives_is_listed_with_its_motivation() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    # Typed code 11 (form B carries the ledger's code whatever is typed): the ledger's
    # prolongation is what the grid lists, with the motivation as evidence.
    motivated = EVALUATED.model_copy(
        update={
            "evaluated_on": dt.date(2027, 2, 10),
            "subsidy_prolongation_motivation": "needs a second year of training",
        }
    )
    events = [REGISTERED, BILAN, GRANT, SIGNED, EVALUATED, motivated]
    [found] = [
        c
        for c in grid(events, dt.date(2027, 5, 1))
        if c.rule == "audit.prolongation_motivation"
    ]
    assert (found.verdict, found.subject) == ("met", "prolongation from 2027-04")
    assert motivated.event_id in found.evidence


def test_law_21_july_2016_a_prolongation_claimed_without_a_recorded_motivation_is_a_finding() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    prolonged = SIGNED.model_copy(update={"subsidy_code": "17"})
    events = [REGISTERED, BILAN, GRANT, prolonged, EVALUATED]
    found = line(grid(events, dt.date(2027, 5, 1)), "audit.prolongation_motivation")
    assert found.verdict == "finding"
    assert found.evidence[0] == prolonged.event_id
    # Claimed before any income month of the PIIS: nothing is due yet.
    early = line(
        grid([REGISTERED, BILAN, prolonged], dt.date(2026, 5, 1)),
        "audit.prolongation_motivation",
    )
    assert early.verdict == "not_due"


def test_art60_par7_a_contract_on_the_rule_table_not_onems_period_is_a_finding() -> (
    None
):
    onem = sample(Article60SignedV1, onem_required_period_end=dt.date(2027, 4, 6))
    met = line(
        grid([REGISTERED, onem], dt.date(2026, 6, 1)), "article60.after_onem_end_date"
    )
    assert (met.verdict, met.evidence) == ("met", (onem.event_id,))
    table = onem.model_copy(
        update={
            "required_period_source": "default_rule",
            "flags": ("required_period.not_calculated_by_onem",),
        }
    )
    found = line(
        grid([REGISTERED, table], dt.date(2026, 6, 1)),
        "required_period.not_calculated_by_onem",
    )
    assert found.verdict == "finding"
    later = onem.model_copy(
        update={"flags": ("required_period.onem_end_date_for_earlier_start",)}
    )
    flagged = line(
        grid([REGISTERED, later], dt.date(2026, 6, 1)),
        "required_period.onem_end_date_for_earlier_start",
    )
    assert flagged.verdict == "finding"
