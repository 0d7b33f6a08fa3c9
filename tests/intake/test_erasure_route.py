"""``POST /erasures``: the operator's route to ``hub erase`` (ADR 0023).

Intake records the erasure and destroys the key, then answers 202: the
services purge their own rows as the erasure event reaches them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.errors import DomainError
from services.common.settings import HubSettings
from services.common.vault import PersonErasedError
from services.erasure import ErasureDone, erase_person
from services.intake.api import create_api
from tests.common.apis import KEY, KEYS, OPERATOR
from tests.common.test_refusals import refused
from tests.intake.fakes import in_memory_intake

NISS = "85073003328"
BODY = {"person": NISS, "cpas_kbo": "0212345668"}


class Eraser:
    """Records what it was asked; refuses within the retention period."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def __call__(self, **asked: Any) -> ErasureDone:
        self.asked.append(asked)
        if not asked["force"]:
            raise DomainError(
                "force", "erasure.within_retention", "the retention period runs"
            )
        return ErasureDone(
            uuid.UUID(int=5),
            dt.date(2026, 12, 2),
            forced=True,
            key_destroyed=True,
            purged={"intake.dead_letters": 1},
        )


def test_adr_0023_an_operator_erases_and_the_answer_names_no_person() -> None:
    eraser = Eraser()
    client = TestClient(create_api(in_memory_intake(), KEYS, eraser=eraser))
    answer = client.post(
        "/erasures",
        json={**BODY, "force": True, "reason": "court_order", "reference": "C-1"},
        headers={"X-API-Key": OPERATOR},
    )
    assert answer.status_code == 202, answer.text
    assert NISS not in answer.text
    done = answer.json()
    assert done["case_id"] == str(uuid.UUID(int=5))
    assert (done["key_destroyed"], done["event_recorded"]) == (True, True)
    assert done["purged"] == {"intake.dead_letters": 1}
    # Who purges the rest, as the event reaches them.
    assert set(done["purging"]) == {
        "case-state",
        "piis-facts",
        "placement-facts",
        "partner-outbound",
    }
    assert "hub.intake.case.erased.v1" in done["then"]
    assert eraser.asked == [
        {
            "niss": NISS,
            "cpas_kbo": "0212345668",
            "force": True,
            "reason": "court_order",
            "reference": "C-1",
        }
    ]


def test_adr_0023_an_erasure_within_retention_is_refused_with_its_rule() -> None:
    client = TestClient(create_api(in_memory_intake(), KEYS, eraser=Eraser()))
    answer = client.post("/erasures", json=BODY, headers={"X-API-Key": OPERATOR})
    refused(answer, 422, ["body", "force"], "erasure.within_retention")
    assert NISS not in answer.text


def test_adr_0023_only_an_operator_erases() -> None:
    eraser = Eraser()
    client = TestClient(create_api(in_memory_intake(), KEYS, eraser=eraser))
    answer = client.post("/erasures", json=BODY, headers={"X-API-Key": KEY})
    assert answer.status_code == 403
    assert eraser.asked == []


def test_adr_0023_a_bad_niss_or_reason_names_the_field_not_the_value() -> None:
    client = TestClient(create_api(in_memory_intake(), KEYS, eraser=Eraser()))
    for body, field in (
        ({**BODY, "person": "12345"}, "person"),
        ({**BODY, "force": True, "reason": "because I say so"}, "reason"),
    ):
        answer = client.post("/erasures", json=body, headers={"X-API-Key": OPERATOR})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"][-1] == field
        assert "because" not in answer.text


def test_adr_0023_an_api_that_cannot_erase_says_so() -> None:
    client = TestClient(create_api(in_memory_intake(), KEYS))
    answer = client.post("/erasures", json=BODY, headers={"X-API-Key": OPERATOR})
    refused(answer, 503, ["body"], "erasure.unavailable")


def test_adr_0023_a_command_for_an_erased_person_is_gone() -> None:
    app = in_memory_intake()
    api = create_api(app, KEYS)

    @api.get("/sealing")
    def seal() -> None:
        raise PersonErasedError

    answer = TestClient(api).get("/sealing")
    refused(answer, 410, ["path", "case_id"], "case.erased")


@pytest.mark.parametrize("reference", ["85073003328", "DPO/85.07.30-033.28"])
def test_adr_0023_a_reference_that_holds_a_national_number_is_refused(
    reference: str,
) -> None:
    # The erasure event outlives the person's key: nothing in it may name them.
    with pytest.raises(DomainError) as refused_here:
        erase_person(
            HubSettings(),
            niss=NISS,
            cpas_kbo=BODY["cpas_kbo"],
            force=True,
            reason="court_order",
            reference=reference,
        )
    assert (refused_here.value.field, refused_here.value.rule) == (
        "reference",
        "erasure.reference_names_a_person",
    )
    assert NISS not in str(refused_here.value)
