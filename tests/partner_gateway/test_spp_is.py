"""SPP IS forms B, C and D from the hub's events, and SPP IS's answers.

The rules are SPP IS's (Primabook, forms B, C and D;
docs/domain/federal-reporting.md): a modification restates every field, a
correction keeps the effective date with status 1, a form C ends one form B, the
forms D of a month are numbered, no form without a NISS; the PIIS code is one
in use on the effective date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from contracts.envelope import ContractEvent
from contracts.federal_reporting import (
    FederalFormRejectedV1,
    FederalFormSubmittedV1,
    FormBContent,
    FormCContent,
    FormDContent,
)
from contracts.income import (
    IncomeRecoveryDecidedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightRefusedV1,
    IncomeRightWithdrawnV1,
    PartnerPiisObligation,
    RecoveredMonth,
)
from contracts.piis import PiisEndedV1, PiisEvaluatedV1, PIISSignedV1
from services.case_state import subsidies
from services.common.aggregate import CommandContext
from services.common.consumer import NotYetError
from services.common.errors import ConflictError, DomainError
from services.partner_gateway.application import PartnersApplication
from services.partner_gateway.canonical import RoutingFacts
from services.partner_gateway.federal import Answer, FederalFile, FormFate
from services.partner_gateway.federal_policy import FederalReportingPolicy
from services.partner_gateway.partners import spp_is
from services.partner_gateway.vocabulary import InboundRejected
from tests.contracts.samples import SAMPLES
from tests.intake.fakes import IN_MEMORY

CASE = uuid.UUID(int=0x5A3E_0101)
KBO = "0212345668"
FACTS = spp_is.FederalFacts(
    case_id=CASE, cpas_kbo=KBO, cpas_ins_code="21004", niss="85073003328"
)
GOLDEN = Path(__file__).parent / "golden" / "spp_is"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
GOLDEN_FILES = frozenset(
    {GOLDEN / "outbound" / f"formulaire_{kind}.json" for kind in "bcd"}
    | {GOLDEN / "outbound" / "formulaire_c_refus.json"}
    | {GOLDEN / "inbound" / f"accuse_reception_{r}.json" for r in ("accepte", "refuse")}
)
E = TypeVar("E", bound=ContractEvent)


def sample(cls: type[E], number: int, **changes: Any) -> E:
    event = next(e for e in SAMPLES if isinstance(e, cls))
    return event.model_copy(
        update={
            "case_id": CASE,
            "event_id": uuid.UUID(int=0xE000 + number),
            "occurred_at": dt.datetime(2026, 3, number, 9, tzinfo=dt.UTC),
            **changes,
        }
    )


GRANT = sample(IncomeRightGrantedV1, 10)
MODIFIED = sample(IncomeRightModifiedV1, 11)
WITHDRAWN = sample(IncomeRightWithdrawnV1, 12)
SIGNED = sample(PIISSignedV1, 13, subsidy_code="11")
REFUSED = sample(IncomeRightRefusedV1, 14)
MAY = dt.date(2026, 5, 1)


def recovered(number: int, *months: tuple[dt.date, str]) -> IncomeRecoveryDecidedV1:
    """A recovery of the given amounts by month (1,314.20 granted in each)."""
    parts = tuple(
        RecoveredMonth(month=m, amount=Decimal(a), granted=Decimal("1314.20"))
        for m, a in months
    )
    return sample(
        IncomeRecoveryDecidedV1,
        number,
        period_start=parts[0].month,
        period_end=parts[-1].month.replace(day=28),
        amount=sum(p.amount for p in parts),
        months=parts,
    )


RECOVERED = recovered(15, (MAY, "120.50"))


def app() -> PartnersApplication:
    return PartnersApplication(IN_MEMORY, id_secret="t")


def report(
    hub: PartnersApplication,
    event: ContractEvent,
    facts: spp_is.FederalFacts = FACTS,
) -> tuple[uuid.UUID, Any] | None:
    context = CommandContext(event.event_id, event.occurred_at)
    return hub.submit_federal_form(
        CASE,
        KBO,
        context,
        build=lambda file: spp_is.form_for(event, facts, file),
        sources=(event.event_id,),
    )


def answer(
    hub: PartnersApplication, form_id: uuid.UUID, answer_id: str, **refusal: str
) -> str:
    given = Answer(
        case_id=CASE,
        answer_id=answer_id,
        form_id=form_id,
        cpas_kbo=KBO,
        accepted=not refusal,
        answered_on=dt.date(2026, 3, 20),
        reason_code=refusal.get("code"),
        reason_text=refusal.get("text"),
    )
    context = CommandContext(uuid.uuid5(CASE, answer_id), dt.datetime.now(dt.UTC))
    return hub.record_federal_answer(CASE, KBO, context, given)


def form(hub: PartnersApplication, form_id: uuid.UUID) -> Any:
    return next(f for f in hub.federal_forms(CASE) if f.form_id == form_id)


# -- form B ---------------------------------------------------------------------------


def test_form_b_of_a_ris_grant_names_the_cpas_the_person_and_the_category() -> None:
    hub = app()
    reported = report(hub, GRANT)
    assert reported is not None
    content = form(hub, reported[0]).content
    assert isinstance(content, FormBContent)
    assert (content.cpas_kbo, content.cpas_ins_code, content.niss) == (
        KBO,
        "21004",
        "85073003328",
    )
    assert (content.effective_date, content.category, content.notice_status) == (
        GRANT.effective_date,
        2,
        0,
    )


def test_spp_is_form_b_a_modification_restates_every_field() -> None:
    hub = app()
    feed = Feed(hub)
    assert feed(SIGNED) == []  # no form B yet: nothing to report
    first, piis = feed(GRANT)  # the grant, then the PIIS code from April
    assert feed(SIGNED) == []  # a redelivery: nothing twice
    (modified,) = feed(MODIFIED)
    assert [code for _, code, _ in _codes([first, piis])] == [None, 11]
    earlier = piis.content.model_dump()
    later = modified.content.model_dump()
    changed = {k for k in later if later[k] != earlier[k]}
    assert changed == {"effective_date", "category", "decision_date"}
    assert later["piis_code"] == 11  # restated though it did not change
    # On the wire too, every field is there, the unchanged ones included.
    payload = spp_is.wire(CASE, modified.form_id, modified.content, None)
    assert set(payload) == set(spp_is.FORM_MODELS["B"].model_fields)
    assert payload["code_piis"] == 11


def test_spp_is_form_b_a_modification_with_only_the_changed_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="Field required"):
        FormBContent.model_validate(
            {"effective_date": "2026-05-01", "category": 3, "notice_status": 0}
        )


def test_spp_is_form_b_correction_keeps_the_effective_date_with_status_1() -> None:
    hub = app()
    first = report(hub, GRANT)
    corrected = report(
        hub,
        sample(
            IncomeRightModifiedV1,
            14,
            effective_date=GRANT.effective_date,
            category=3,
        ),
    )
    assert first
    assert corrected
    correction = form(hub, corrected[0])
    assert correction.content.effective_date == GRANT.effective_date
    assert correction.content.notice_status == 1
    assert correction.replaces == first[0]
    assert corrected[1]["statut_avis"] == 1
    assert corrected[1]["remplace_formulaire"] == str(first[0])


def test_spp_is_form_b_a_correction_with_another_date_is_a_new_form_b() -> None:
    hub = app()
    report(hub, GRANT)
    later = report(hub, MODIFIED)
    assert later is not None
    assert form(hub, later[0]).content.notice_status == 0
    assert form(hub, later[0]).replaces is None


def test_spp_is_form_b_status_0_with_the_date_of_a_held_form_b_is_refused() -> None:
    file = FederalFile(id=uuid.uuid4(), case_id=CASE, cpas_kbo=KBO)
    context = CommandContext(uuid.uuid4(), dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    content = spp_is.form_for(GRANT, FACTS, file)
    assert content is not None
    file.submit(
        context, content=content, content_digest="0" * 64, source_event_ids=(CASE,)
    )
    with pytest.raises(DomainError) as refused:
        file.submit(
            context, content=content, content_digest="0" * 64, source_event_ids=(CASE,)
        )
    assert refused.value.rule == "federal_form.correction_status"


def test_an_eris_grant_is_not_reported_on_form_b() -> None:
    hub = app()
    assert report(hub, sample(IncomeRightGrantedV1, 15, kind="ERIS")) is None
    assert hub.federal_forms(CASE) == ()


# -- identifiers ----------------------------------------------------------------------


def test_spp_is_every_form_has_a_niss_a_form_without_one_is_refused() -> None:
    hub = app()
    with pytest.raises(DomainError) as refused:
        report(hub, GRANT, dataclasses.replace(FACTS, niss=None))
    assert refused.value.rule == "federal_form.niss_missing"
    assert "NISS" in str(refused.value)
    assert hub.federal_forms(CASE) == ()


def test_spp_is_form_with_a_kbo_failing_mod_97_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        report(app(), GRANT, dataclasses.replace(FACTS, cpas_kbo="0212345669"))
    assert (refused.value.rule, refused.value.field) == (
        "kbo.check_digits",
        "cpas_kbo",
    )


def test_spp_is_form_with_a_niss_failing_its_check_digits_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        report(app(), GRANT, dataclasses.replace(FACTS, niss="85073003329"))
    assert refused.value.rule == "niss.check_digits"
    assert "85073003329" not in str(refused.value)


@pytest.mark.parametrize(
    ("code", "rule"), [("2100", "ins_code.format"), ("99999", "ins_code.unknown")]
)
def test_spp_is_form_names_the_cpas_by_a_municipality_ins_code(
    code: str, rule: str
) -> None:
    with pytest.raises(DomainError) as refused:
        report(app(), GRANT, dataclasses.replace(FACTS, cpas_ins_code=code))
    assert refused.value.rule == rule


# -- PIIS codes by date ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "day"),
    [
        ("8", dt.date(2015, 1, 1)),
        ("8", dt.date(2026, 1, 1)),
        ("9", dt.date(2026, 1, 1)),
        ("10", dt.date(2016, 10, 31)),
        ("11", dt.date(2016, 11, 1)),
        ("17", dt.date(2026, 1, 1)),
        ("7", dt.date(2016, 10, 31)),
    ],
)
def test_spp_is_piis_code_in_use_on_the_effective_date_is_taken(
    code: str, day: dt.date
) -> None:
    assert spp_is.piis_code_on(code, day) == int(code)


@pytest.mark.parametrize(
    ("code", "day"),
    [
        ("11", dt.date(2016, 10, 31)),  # the law of 21 July 2016 starts it
        ("7", dt.date(2016, 11, 1)),  # the old codes end with it
        ("12", dt.date(2018, 10, 1)),  # abolished from 1 October 2018
        ("15", dt.date(2018, 10, 1)),
    ],
)
def test_law_of_21_july_2016_piis_code_not_in_use_on_the_date_is_refused(
    code: str, day: dt.date
) -> None:
    with pytest.raises(DomainError) as refused:
        spp_is.piis_code_on(code, day)
    assert refused.value.rule == "federal_form.piis_code_not_in_force"


@pytest.mark.parametrize("code", ["13", "x", "0"])
def test_spp_is_piis_code_that_is_no_form_b_code_is_refused(code: str) -> None:
    with pytest.raises(DomainError) as refused:
        spp_is.piis_code_on(code, dt.date(2026, 1, 1))
    assert refused.value.rule == "federal_form.piis_code_unknown"


def test_spp_is_piis_subsidy_starts_the_first_day_of_the_month_of_signature() -> None:
    feed = Feed(app())
    feed(GRANT)
    (signed,) = feed(SIGNED)
    assert signed.content.effective_date == dt.date(2026, 4, 1)
    # Signed in the month of the grant: from the grant's date (a correction).
    feed = Feed(app())
    feed(GRANT)
    (early,) = feed(
        sample(PIISSignedV1, 16, subsidy_code="11", signed_on=GRANT.effective_date)
    )
    assert early.content.effective_date == GRANT.effective_date
    assert _codes([early])[0][2] == 1


# -- form C ---------------------------------------------------------------------------


def test_spp_is_form_c_a_withdrawal_ends_exactly_one_form_b() -> None:
    hub = app()
    report(hub, GRANT)
    modified = report(hub, MODIFIED)
    withdrawn = report(hub, WITHDRAWN)
    assert modified
    assert withdrawn
    content = form(hub, withdrawn[0]).content
    assert isinstance(content, FormCContent)
    assert (content.decision_type, content.regularisation) == (2, 0)
    assert content.form_b_id == modified[0]
    assert content.effective_date == WITHDRAWN.effective_date
    again = report(hub, sample(IncomeRightWithdrawnV1, 17))
    assert again is not None
    assert form(hub, again[0]).content.regularisation == 1


def test_spp_is_form_c_without_a_form_b_is_refused() -> None:
    file = FederalFile(id=uuid.uuid4(), case_id=CASE, cpas_kbo=KBO)
    content = FormCContent(
        cpas_kbo=KBO,
        cpas_ins_code="21004",
        niss="85073003328",
        effective_date=dt.date(2026, 10, 1),
        council_date=dt.date(2026, 9, 20),
        decision_type=2,
        regularisation=0,
        form_b_id=uuid.uuid4(),
    )
    context = CommandContext(uuid.uuid4(), dt.datetime(2026, 9, 20, tzinfo=dt.UTC))
    with pytest.raises(DomainError) as refused:
        file.submit(
            context, content=content, content_digest="0" * 64, source_event_ids=(CASE,)
        )
    assert refused.value.rule == "federal_form.c_without_b"


def test_spp_is_form_c_a_refusal_is_type_1_and_a_second_one_regularises_it() -> None:
    file = FederalFile(id=uuid.uuid4(), case_id=CASE, cpas_kbo=KBO)
    context = CommandContext(uuid.uuid4(), dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    dates = {
        "effective_date": dt.date(2026, 2, 1),
        "council_date": dt.date(2026, 2, 24),
    }
    first = spp_is.form_c_refusal(FACTS, file, **dates)
    assert (first.decision_type, first.regularisation, first.form_b_id) == (1, 0, None)
    file.submit(
        context, content=first, content_digest="0" * 64, source_event_ids=(CASE,)
    )
    assert spp_is.form_c_refusal(FACTS, file, **dates).regularisation == 1


def test_a_withdrawal_before_any_form_b_reports_nothing() -> None:
    assert report(app(), WITHDRAWN) is None


# -- form D ---------------------------------------------------------------------------


def test_spp_is_form_d_numbers_the_forms_of_a_month_from_1() -> None:
    file = FederalFile(id=uuid.uuid4(), case_id=CASE, cpas_kbo=KBO)
    context = CommandContext(uuid.uuid4(), dt.datetime(2026, 6, 3, tzinfo=dt.UTC))

    def recover(day: dt.date) -> int:
        content = spp_is.form_d(
            FACTS, file, month=day, recovery_type="01", amount=Decimal("120.50")
        )
        file.submit(
            context, content=content, content_digest="0" * 64, source_event_ids=(CASE,)
        )
        return content.sequence

    assert recover(dt.date(2026, 5, 1)) == 1
    assert recover(dt.date(2026, 5, 17)) == 2
    assert recover(dt.date(2026, 6, 1)) == 1
    wrong = spp_is.form_d(
        FACTS, file, month=dt.date(2026, 5, 1), recovery_type="05", amount=Decimal(1)
    ).model_copy(update={"sequence": 1})
    with pytest.raises(DomainError) as refused:
        file.submit(
            context, content=wrong, content_digest="0" * 64, source_event_ids=(CASE,)
        )
    assert refused.value.rule == "federal_form.d_sequence"


def test_spp_is_form_c_of_a_refused_application_is_type_1_made_from_the_refusal() -> (
    None
):
    hub = app()
    policy = _policy(hub)
    assert policy.react(REFUSED) is not None
    [refusal] = hub.federal_forms(CASE)
    content = refusal.content
    assert isinstance(content, FormCContent)
    assert (content.decision_type, content.regularisation, content.form_b_id) == (
        1,
        0,
        None,
    )
    assert (content.effective_date, content.council_date) == (
        REFUSED.application_date,
        REFUSED.decision_date,
    )
    assert refusal.source_event_ids == (REFUSED.event_id,)
    assert policy.react(REFUSED) is not None  # a redelivery: the same form
    policy.react(sample(IncomeRightRefusedV1, 16))  # the same application again
    forms = [f.content for f in hub.federal_forms(CASE)]
    assert [c.regularisation for c in forms if isinstance(c, FormCContent)] == [0, 1]
    assert len(forms) == 2


def test_spp_is_form_d_one_per_month_of_a_recovery_numbered_in_its_month() -> None:
    hub = app()
    policy = _policy(hub)
    policy.react(RECOVERED)
    june = dt.date(2026, 6, 1)
    second = recovered(16, (MAY, "10.00"), (june, "20.00"))
    assert policy.react(second) is not None
    assert policy.react(second) is not None  # a redelivery submits nothing more
    forms = hub.federal_forms(CASE)
    contents = [f.content for f in forms]
    assert all(isinstance(c, FormDContent) for c in contents)
    assert [
        (c.effective_date, c.sequence, c.amount, c.recovery_type)
        for c in contents
        if isinstance(c, FormDContent)
    ] == [
        (MAY, 1, Decimal("120.50"), "01"),
        (MAY, 2, Decimal("10.00"), "01"),
        (june, 1, Decimal("20.00"), "01"),
    ]
    assert [f.source_event_ids for f in forms[1:]] == [(second.event_id,)] * 2


def test_spp_is_form_d_after_a_rejected_one_takes_its_number_and_replaces_it() -> None:
    hub = app()
    policy = _policy(hub)
    policy.react(RECOVERED)
    [first] = hub.federal_forms(CASE)
    answer(hub, first.form_id, "SPPIS-9", code="D-MNT-01", text="Montant.")
    policy.react(recovered(17, (MAY, "100.00")))
    again = hub.federal_forms(CASE)[-1]
    assert isinstance(again.content, FormDContent)
    assert (again.content.sequence, again.replaces) == (1, first.form_id)


def test_an_eris_refusal_or_recovery_is_not_reported_on_the_forms_of_2002() -> None:
    hub = app()
    policy = _policy(hub)
    assert policy.react(REFUSED.model_copy(update={"kind": "ERIS"})) == "no form"
    assert policy.react(RECOVERED.model_copy(update={"kind": "ERIS"})) == "no form"
    assert hub.federal_forms(CASE) == ()


# -- submission and answers -----------------------------------------------------------


def test_spp_is_rejection_is_kept_with_its_reason_and_the_corrected_form_accepted() -> (
    None
):
    hub = app()
    first = report(hub, GRANT)
    assert first is not None
    rejected = answer(
        hub, first[0], "SPPIS-1", code="B-CAT-02", text="Catégorie incompatible."
    )
    assert rejected == "rejected"
    kept = form(hub, first[0])
    assert (kept.fate, kept.reason_code, kept.reason_text) == (
        "rejected",
        "B-CAT-02",
        "Catégorie incompatible.",
    )
    # The cause fixed by a new event: the category of the grant's date.
    fix = sample(
        IncomeRightModifiedV1, 18, effective_date=GRANT.effective_date, category=1
    )
    corrected = report(hub, fix)
    assert corrected is not None
    again = form(hub, corrected[0])
    # SPP IS holds no form B of that date: a new form (status 0) replacing it.
    assert (again.content.notice_status, again.replaces) == (0, first[0])
    assert again.source_event_ids == (fix.event_id,)
    assert answer(hub, corrected[0], "SPPIS-2") == "accepted"
    fates = [(f.form_id, f.fate) for f in hub.federal_forms(CASE)]
    assert fates == [(first[0], "rejected"), (corrected[0], "accepted")]
    events = list(hub.events.get(hub.federal_file_id(CASE)))
    assert isinstance(events[0], FederalFormSubmittedV1)
    assert isinstance(events[1], FederalFormRejectedV1)
    assert events[0].content_digest == spp_is.content_digest(first[1])


def test_a_form_is_submitted_once_whatever_the_redeliveries() -> None:
    hub = app()
    first = report(hub, GRANT)
    assert report(hub, GRANT) == first
    assert len(hub.federal_forms(CASE)) == 1


def test_an_answer_twice_is_recorded_once_and_another_answer_is_refused() -> None:
    hub = app()
    first = report(hub, GRANT)
    assert first is not None
    assert answer(hub, first[0], "SPPIS-1") == "accepted"
    assert answer(hub, first[0], "SPPIS-1") == "duplicate"  # the same answer
    with pytest.raises(ConflictError) as refused:
        answer(hub, first[0], "SPPIS-9", code="X", text="late")
    assert refused.value.rule == "federal_form.already_answered"


def test_an_answer_about_a_form_never_submitted_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        answer(app(), uuid.uuid4(), "SPPIS-1")
    assert refused.value.rule == "federal_form.unknown"


def test_spp_is_answer_parses_and_renders_back() -> None:
    given = Answer(
        case_id=CASE,
        answer_id="SPPIS-7",
        form_id=uuid.UUID(int=5),
        cpas_kbo=KBO,
        accepted=False,
        answered_on=dt.date(2026, 3, 20),
        reason_code="C-01",
        reason_text="Formulaire B inconnu.",
    )
    assert spp_is.parse_answer(spp_is.render_answer(given)) == given


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (b"\xe9t\xe9", "encoding.not_utf8"),
        (b"not json", "payload.not_json"),
        (b"[]", "schema.invalid"),
        (b'{"resultat": "accepte"}', "schema.invalid"),
    ],
)
def test_an_unreadable_spp_is_answer_is_refused_with_its_rule(
    raw: bytes, rule: str
) -> None:
    with pytest.raises(InboundRejected) as refused:
        spp_is.parse_answer(raw)
    assert refused.value.rule == rule


def test_a_rejection_without_its_reason_is_refused() -> None:
    body = json.loads(_answer_golden("refuse"))
    body["motif"] = None
    with pytest.raises(InboundRejected) as refused:
        spp_is.parse_answer(json.dumps(body).encode())
    assert (refused.value.rule, refused.value.field) == ("schema.invalid", "motif")


@pytest.mark.parametrize(
    ("result", "field", "value"),
    [
        ("accepte", "version", True),
        ("accepte", "identifiant_formulaire", "{00000000-0000-0000-0000-000000000005}"),
        (
            "accepte",
            "identifiant_formulaire",
            "urn:uuid:00000000-0000-0000-0000-000000000005",
        ),
        ("accepte", "reference_dossier", "00000000000000000000000000000501"),
        ("accepte", "identifiant_message", " "),
        ("refuse", "motif", "   "),
        ("refuse", "code_motif", " "),
    ],
)
def test_an_spp_is_answer_with_an_odd_value_is_refused_naming_the_field(
    result: str, field: str, value: object
) -> None:
    """A boolean version, a UUID in braces, as a URN or without its hyphens, a
    blank answer id or a blank reason: each refused, never read as a valid answer."""
    body = json.loads(_answer_golden(result))
    body[field] = value
    with pytest.raises(InboundRejected) as refused:
        spp_is.parse_answer(json.dumps(body).encode())
    assert field in f"{refused.value.field} {refused.value}"


def test_a_date_written_the_local_way_in_an_answer_is_refused() -> None:
    body = json.loads(_answer_golden("accepte"))
    body["date_traitement"] = "20/03/2026"
    with pytest.raises(InboundRejected) as refused:
        spp_is.parse_answer(json.dumps(body).encode())
    assert refused.value.rule == "date.format"


# -- golden files ---------------------------------------------------------------------


def _compare(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1"
    assert path.read_text() == text, f"{path} differs: review, then UPDATE_GOLDEN=1"


def _text(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _answer_golden(result: str) -> str:
    return (GOLDEN / "inbound" / f"accuse_reception_{result}.json").read_text()


def _golden_forms() -> dict[str, dict[str, Any]]:
    """Every form from its event, through the policy as the events arrive."""
    hub = app()
    feed = Feed(hub)
    payloads: dict[str, dict[str, Any]] = {}
    for name, event in (
        ("b", GRANT),
        ("b", SIGNED),
        ("b", MODIFIED),
        ("c", WITHDRAWN),
        ("d", RECOVERED),
        ("c_refus", REFUSED),
    ):
        assert feed(event) != []
        last = hub.federal_forms(CASE)[-1]
        payloads[name] = dict(
            spp_is.wire(CASE, last.form_id, last.content, last.replaces)
        )
    return payloads


@pytest.mark.parametrize("name", ["b", "c", "d", "c_refus"])
def test_spp_is_form_equals_its_golden_file_and_its_schema(name: str) -> None:
    payload = _golden_forms()[name]
    kind = payload["formulaire"]
    spp_is.FORM_MODELS[kind].model_validate_json(_text(payload), strict=True)
    _compare(GOLDEN / "outbound" / f"formulaire_{name}.json", _text(payload))


@pytest.mark.parametrize("accepted", [True, False])
def test_spp_is_answer_golden_file_parses_to_its_answer(accepted: bool) -> None:
    result = "accepte" if accepted else "refuse"
    path = GOLDEN / "inbound" / f"accuse_reception_{result}.json"
    if UPDATE and not path.exists():
        given = Answer(
            case_id=CASE,
            answer_id=f"SPPIS-2026-{'000124' if accepted else '000123'}",
            form_id=uuid.uuid5(uuid.UUID(int=1), "form"),
            cpas_kbo=KBO,
            accepted=accepted,
            answered_on=dt.date(2026, 3, 20),
            reason_code=None if accepted else "B-CAT-02",
            reason_text=None
            if accepted
            else "Catégorie incompatible avec la composition du ménage.",
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(spp_is.render_answer(given) + b"\n")
    parsed = spp_is.parse_answer(path.read_bytes())
    assert parsed.accepted is accepted
    assert (parsed.reason_code is None) is accepted


# -- the policy: forms as the events arrive -------------------------------------------


def _policy(
    hub: PartnersApplication, codes: dict[str, str] | None = None, **readers: Any
) -> FederalReportingPolicy:
    facts = RoutingFacts(
        case_id=CASE,
        cpas_kbo=KBO,
        dossier_number="BX1",
        region="brussels",
        partner="actiris",
        preferred_language="fr",
        niss=FACTS.niss or "",
        family_name="Dumont",
        given_name="Léa",
        birth_date=dt.date(1985, 7, 30),
    )
    known = {CASE: facts}
    return FederalReportingPolicy(
        hub, known.get, {KBO: "21004"} if codes is None else codes, **readers
    )


class Feed:
    """The policy as the consumer runs it: each event folded with its case's row."""

    def __init__(self, hub: PartnersApplication) -> None:
        self.hub = hub
        self.rows: dict[uuid.UUID, Any] = {}
        self.partners: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.policy = _policy(
            hub, find_facts=self.rows.get, find_households=self._households
        )

    def _households(self, partner: uuid.UUID) -> list[Any]:
        return [self.rows[c] for c, named in self.partners.items() if partner in named]

    def __call__(self, event: ContractEvent) -> list[FormFate]:
        """The forms the event added to the case's federal file."""
        before = len(self.hub.federal_forms(CASE))
        row = self.policy.fold(self.rows.get(event.case_id), event)
        if row is not None:  # through the table's columns, as it is stored
            *head, facts, partners = self.policy.encode(row)
            self.rows[event.case_id] = self.policy.decode(
                (*head, json.loads(facts), partners)
            )
            self.partners[event.case_id] = partners
        return list(self.hub.federal_forms(CASE)[before:])


def test_spp_is_forms_are_submitted_as_the_events_arrive_once_each() -> None:
    hub = app()
    feed = Feed(hub)
    assert len(feed(GRANT)) == 1
    assert feed(GRANT) == []  # a redelivery: the same form, not another
    # A PIIS with no code typed: code 11 all the same (the subsidy's periods).
    assert [code for _, code, _ in _codes(feed(sample(PIISSignedV1, 19)))] == [11]
    assert len(feed(MODIFIED)) == 1
    assert [f.kind for f in hub.federal_forms(CASE)] == ["B", "B", "B"]
    assert feed.policy.react(SAMPLES[0]) is None  # not an event SPP IS hears of


# -- the PIIS code follows the subsidy's periods (law of 21 July 2016) --------------

MARCH_2025 = dt.date(2025, 3, 1)
MARCH_2026 = dt.date(2026, 3, 1)


def _on(cls: type[E], number: int, day: dt.date, **changes: Any) -> E:
    """A sample event recorded on a day."""
    at = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    return sample(cls, number, occurred_at=at, **changes)


def _first_year(code: str = "11") -> tuple[ContractEvent, ContractEvent]:
    """A RIS from 1 March 2025 and a PIIS signed on 5 March 2025 with ``code``."""
    decided, signed_on = dt.date(2025, 3, 3), dt.date(2025, 3, 5)
    grant = _on(
        IncomeRightGrantedV1,
        20,
        decided,
        application_date=dt.date(2025, 2, 20),
        decision_date=decided,
        effective_date=MARCH_2025,
        partner_piis_obligations=(),
    )
    piis = {"signed_on": signed_on, "start_date": signed_on, "subsidy_code": code}
    return grant, _on(PIISSignedV1, 21, signed_on, **piis)


def _motivated(day: dt.date = dt.date(2026, 2, 10)) -> PiisEvaluatedV1:
    why = "objectives met, training continues"
    return _on(
        PiisEvaluatedV1,
        22,
        day,
        piis_id=SIGNED.piis_id,
        evaluated_on=day,
        subsidy_prolongation_motivation=why,
    )


def _ended(day: dt.date) -> PiisEndedV1:
    return _on(PiisEndedV1, 23, day, piis_id=SIGNED.piis_id, ended_on=day)


def _fed(*events: ContractEvent) -> Feed:
    """A policy that was fed some events."""
    feed = Feed(app())
    for event in events:
        feed(event)
    return feed


def _codes(forms: list[FormFate]) -> list[tuple[dt.date, int | None, int]]:
    found: list[tuple[dt.date, int | None, int]] = []
    for f in forms:
        assert isinstance(f.content, FormBContent)
        found.append((f.effective_date, f.content.piis_code, f.content.notice_status))
    return found


def test_law_21_july_2016_prolongation_form_b_code_17_from_the_first_day_after_the_first_year() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    """Grant 1 March 2025, PIIS 5 March, motivation 10 February 2026: code 17
    from 1 March 2026 on form B, as the subsidy ledger counts it."""
    hub = app()
    feed = Feed(hub)
    grant, signed = _first_year()
    feed(grant)
    assert _codes(feed(signed)) == [(MARCH_2025, 11, 1)]  # from the grant's day
    evaluation = _motivated()
    (prolonged,) = feed(evaluation)
    assert _codes([prolonged]) == [(MARCH_2026, 17, 0)]
    assert prolonged.source_event_ids == (evaluation.event_id,)
    assert feed(evaluation) == []  # a redelivery submits nothing twice
    # One rule: the ledger's month is the form's code.
    facts = subsidies.subsidy_facts([grant, signed, evaluation])
    assert facts is not None
    rows = subsidies.ledger(facts, {}, as_of=dt.date(2026, 3, 31))
    assert (rows[-1].month, rows[-1].piis_code) == (MARCH_2026, "17")


def test_law_21_july_2016_a_piis_typed_17_at_its_first_signature_is_code_11_on_form_b() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    feed = Feed(app())
    grant, signed = _first_year(code="17")
    feed(grant)
    assert _codes(feed(signed)) == [(MARCH_2025, 11, 1)]


def test_law_21_july_2016_a_piis_ended_before_the_last_day_of_the_first_year_gets_no_17() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    feed = _fed(*_first_year())
    assert feed(_ended(dt.date(2026, 1, 31))) == []
    assert feed(_motivated()) == []  # no PIIS in force on 28 February 2026


def test_law_21_july_2016_code_17_sent_then_piis_ended_before_the_last_day_is_corrected() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    feed = _fed(*_first_year())
    (prolonged,) = feed(_motivated())
    (withdrawn,) = feed(_ended(dt.date(2026, 2, 20)))
    assert _codes([withdrawn]) == [(MARCH_2026, None, 1)]
    assert withdrawn.replaces == prolonged.form_id


def test_law_21_july_2016_a_piis_ended_during_the_prolongation_ends_code_17() -> None:
    feed = _fed(*_first_year(), _motivated())
    (stopped,) = feed(_ended(dt.date(2026, 6, 30)))
    assert _codes([stopped]) == [(dt.date(2026, 7, 1), None, 0)]


def test_law_21_july_2016_a_modification_carries_the_code_of_its_date() -> None:
    may = dt.date(2026, 5, 1)
    modified = _on(IncomeRightModifiedV1, 24, may, effective_date=may, category=3)
    # In the prolongation: code 17, one form.
    assert _codes(_fed(*_first_year(), _motivated())(modified)) == [(may, 17, 0)]
    # After a first year not prolonged: no code (the 11 is not restated).
    assert _codes(_fed(*_first_year())(modified)) == [(may, None, 0)]


def test_spp_is_faq_a_partners_piis_gives_the_household_its_code_on_form_b() -> None:
    """One subsidy for the household: the partner's PIIS and motivation count."""
    partner = uuid.UUID(int=0x5A3E_0202)
    grant, signed = _first_year()
    couple = grant.model_copy(
        update={
            "partner_piis_obligations": (
                PartnerPiisObligation(
                    position=1,
                    partner_case_id=partner,
                    piis_obligation="compulsory_new_beneficiary",
                ),
            )
        }
    )
    theirs = {"case_id": partner, "cpas_kbo": KBO}
    feed = Feed(app())
    feed(couple)
    assert _codes(feed(signed.model_copy(update=theirs))) == [(MARCH_2025, 11, 1)]
    motivated = _motivated().model_copy(update=theirs)
    assert _codes(feed(motivated)) == [(MARCH_2026, 17, 0)]
    assert feed(motivated) == []  # a redelivery submits nothing twice


def test_spp_is_form_of_a_cpas_without_its_ins_code_is_parked_with_the_rule() -> None:
    other_cpas = {"0212345668" if KBO != "0212345668" else "0200000066": "21004"}
    with pytest.raises(DomainError) as refused:
        _policy(app(), codes=other_cpas).react(GRANT)
    assert refused.value.rule == "federal_form.cpas_ins_code_missing"


def test_a_hub_with_no_ins_code_configured_reports_nothing_to_the_spp_is() -> None:
    hub = app()
    assert _policy(hub, codes={}).react(GRANT) is None
    assert hub.federal_forms(CASE) == ()


def test_an_event_of_a_case_the_gateway_does_not_know_yet_comes_back() -> None:
    policy = _policy(app())
    with pytest.raises(NotYetError):
        policy.react(GRANT.model_copy(update={"case_id": uuid.uuid4()}))
