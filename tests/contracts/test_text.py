"""Bounded text, lists, maps and decimals: refused by rule, lenient in history."""

from __future__ import annotations

import contextlib
import json
import re
from decimal import Decimal
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from contracts.intake import BaselineScores
from contracts.registry import parse_event, parse_stored_event
from contracts.text import (
    HISTORY,
    ONE_LINE_PATTERN,
    PROSE_PATTERN,
    Identifier,
    Items,
    Name,
    ProseList,
    Reason,
    ScoreDomain,
    ShortDecimal,
    safe_loc,
)
from tests.contracts.samples import SAMPLES

C0 = [chr(c) for c in range(0x20)]
C1 = [chr(c) for c in range(0x7F, 0xA0)]  # DEL and C1
PROSE_ALLOWED = {"\t", "\n", "\r"}
ONE_LINE_REFUSED = C0 + C1
PROSE_REFUSED = [c for c in ONE_LINE_REFUSED if c not in PROSE_ALLOWED]


class Form(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    name: Name = "x"
    reason: Reason = "x"
    needs: ProseList = ()
    scores: dict[ScoreDomain, int] = Field(default_factory=dict)
    amount: ShortDecimal = Decimal(1)


def errors_of(**fields: Any) -> list[ErrorDetails]:
    with pytest.raises(ValidationError) as refused:
        Form.model_validate(fields)
    return refused.value.errors(include_input=False, include_url=False)


# Text of characters every field takes: no control character, no surrogate.
allowed = st.text(alphabet=st.characters(exclude_categories=["Cc", "Cs"]), max_size=200)


@given(text=allowed, refused=st.sampled_from(ONE_LINE_REFUSED), at=st.integers(0))
def test_a_one_line_text_with_any_control_character_is_refused_by_rule(
    text: str, refused: str, at: int
) -> None:
    value = (text[: at % (len(text) + 1)] + refused + text)[:200]
    [error] = errors_of(name=value)
    assert error["type"] == "text.control_character"
    assert error["loc"] == ("name",)
    assert error["msg"] == (
        f"contains a control character (U+{ord(refused):04X}); "
        "a one-line field allows none"
    )


@given(text=allowed, refused=st.sampled_from(PROSE_REFUSED))
def test_prose_refuses_every_control_character_but_tab_and_line_breaks(
    text: str, refused: str
) -> None:
    [error] = errors_of(needs=["ok", text[:400] + refused])
    assert (error["type"], error["loc"]) == ("text.control_character", ("needs", 1))


@given(
    text=st.text(
        alphabet=st.characters(
            exclude_categories=["Cs"], include_characters="\t\n\r"
        ).filter(lambda c: c not in PROSE_REFUSED),
        max_size=500,
    )
)
def test_any_prose_of_allowed_characters_within_the_limit_is_accepted(
    text: str,
) -> None:
    form = Form(reason=text, needs=(text,))
    assert form.reason == text


@given(text=allowed)
def test_any_one_line_text_of_allowed_characters_within_the_limit_is_accepted(
    text: str,
) -> None:
    assert Form(name=text).name == text


@given(text=st.text(alphabet=st.characters(codec=None), max_size=300))
def test_validation_never_raises_anything_but_a_validation_error(text: str) -> None:
    for field in ("name", "reason", "needs", "scores"):
        value: Any = [text] if field == "needs" else text
        value = {text: 1} if field == "scores" else value
        with contextlib.suppress(ValidationError):
            Form.model_validate({field: value})
        with contextlib.suppress(ValidationError):
            Form.model_validate_json(json.dumps({field: value}))


@given(text=st.text(alphabet=st.characters(codec=None), max_size=60))
def test_the_published_pattern_refuses_exactly_what_the_check_refuses(
    text: str,
) -> None:
    for pattern, field in ((ONE_LINE_PATTERN, "name"), (PROSE_PATTERN, "reason")):
        try:
            Form.model_validate({field: text})
        except ValidationError:
            accepted = False
        else:
            accepted = True
        # ECMA-262 (JSON Schema) "$" is the end of the text only: fullmatch.
        matches = re.fullmatch(pattern.strip("^$"), text) is not None
        surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        assert accepted == (matches and not surrogate), (field, text)


def test_lone_surrogates_are_refused() -> None:
    for field in ("name", "reason"):
        [error] = errors_of(**{field: "a\udc00b"})
        assert (error["type"], error["loc"]) == ("text.lone_surrogate", (field,))
        assert (
            error["msg"] == "contains a lone surrogate (U+DC00), which is no character"
        )
    with pytest.raises(ValidationError) as refused:  # JSON escapes one; jiter refuses
        Form.model_validate_json('{"name": "a\\ud800b"}')
    assert refused.value.errors()[0]["type"] == "json_invalid"


def test_a_text_longer_than_its_limit_is_refused_as_too_long() -> None:
    [error] = errors_of(name="é" * 201)
    assert (error["type"], error["loc"]) == ("text.too_long", ("name",))
    assert error["msg"] == "at most 200 characters (201 given)"
    assert Form(name="😀" * 200).name == "😀" * 200  # characters, not bytes


def test_a_list_and_a_map_with_too_many_items_are_refused_by_rule() -> None:
    [too_many] = errors_of(needs=["n"] * 31)
    assert (too_many["type"], too_many["loc"]) == ("list.too_long", ("needs",))
    assert too_many["msg"] == "at most 30 items (31 given)"
    assert Form(needs=("n",) * 30).needs == ("n",) * 30

    class Bilan(BaseModel):
        scores: BaselineScores

    with pytest.raises(ValidationError) as refused:
        Bilan(scores={f"d{n}": 1 for n in range(31)})
    [error] = refused.value.errors()
    assert (error["type"], error["msg"]) == (
        "map.too_long",
        "at most 30 entries (31 given)",
    )


def test_a_map_key_with_a_control_character_is_refused_and_not_shown() -> None:
    [error] = errors_of(scores={"wo\x00rk": 1})
    assert error["type"] == "text.control_character"
    assert safe_loc(error["loc"]) == ["scores", "(key)", "[key]"]
    assert safe_loc(["body", "scores", "santé mentale", 3]) == [
        "body",
        "scores",
        "santé mentale",
        3,
    ]


def test_a_decimal_is_bounded_by_its_written_length_trailing_zeros_included() -> None:
    [error] = errors_of(amount="28." + "0" * 20)
    assert (error["type"], error["loc"]) == ("decimal.too_long", ("amount",))
    assert Form(amount="-1234567890.1234").amount == Decimal("-1234567890.1234")


def test_the_bounds_are_in_the_json_schema() -> None:
    schema = Form.model_json_schema(mode="serialization")["properties"]
    assert schema["name"] | {"title": ""} == {
        "type": "string",
        "maxLength": 200,
        "pattern": ONE_LINE_PATTERN,
        "default": "x",
        "title": "",
    }
    assert schema["needs"]["maxItems"] == 30
    assert schema["needs"]["items"]["pattern"] == PROSE_PATTERN
    assert schema["amount"]["maxLength"] == 16


def test_history_is_read_without_the_bounds() -> None:
    class Bilan(BaseModel):
        author: Identifier
        needs: ProseList = ()

    old = {"author": "a\x00" * 50, "needs": ["x" * 1200] * 40}
    assert Bilan.model_validate(old, context=HISTORY).author == "a\x00" * 50
    with pytest.raises(ValidationError) as refused:
        Bilan.model_validate(old)
    assert {e["type"] for e in refused.value.errors()} == {
        "text.too_long",  # the author; every need, before their number
    }
    assert not any(e["loc"] == ("needs",) for e in refused.value.errors())
    [too_many] = errors_of(needs=["x"] * 40)
    assert too_many["type"] == "list.too_long"


def _bilan_payload(**changes: Any) -> bytes:
    bilan = next(s for s in SAMPLES if s.event_type.endswith("bilan.completed.v1"))
    data = bilan.model_dump(mode="json", exclude={"recorded_at"}) | changes
    return json.dumps(data).encode()


def test_a_stored_event_over_today_s_limits_still_loads_but_not_from_a_topic() -> None:
    payload = _bilan_payload(
        needs=["x" * 2_000_000],
        author="sw\x00017",
        baseline_scores={f"d{n}": 1 for n in range(40)},
    )
    event_type = "hub.intake.bilan.completed.v1"
    stored = parse_stored_event(event_type, payload)
    assert len(stored.needs[0]) == 2_000_000  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as refused:
        parse_event(event_type, payload)
    assert {e["type"] for e in refused.value.errors()} == {
        "text.too_long",
        "text.control_character",
        "map.too_long",
    }
    # The compiled reading path is what validating under HISTORY gives.
    cls = type(stored)
    assert cls.model_validate_json(payload, context=HISTORY) == stored


def test_the_reading_path_gives_every_sample_as_the_strict_one_does() -> None:
    for event in SAMPLES:
        payload = event.model_dump_json(exclude={"recorded_at"})
        stored = parse_stored_event(event.event_type, payload)
        strict = parse_event(event.event_type, payload)
        assert stored == strict == event
        assert type(stored) is type(event)
        assert stored.model_fields_set == strict.model_fields_set
        assert stored.__pydantic_extra__ == strict.__pydantic_extra__


def test_items_bound_a_list_of_anything() -> None:
    class Plan(BaseModel):
        days: Annotated[tuple[int, ...], Items(2)] = ()

    with pytest.raises(ValidationError) as refused:
        Plan(days=(1, 2, 3))
    assert refused.value.errors()[0]["type"] == "list.too_long"
    assert Plan.model_json_schema()["properties"]["days"]["maxItems"] == 2
