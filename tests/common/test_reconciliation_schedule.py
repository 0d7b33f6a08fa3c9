"""After a replaced copy, each consumer of the topic checks the record, on time."""

from __future__ import annotations

import asyncio

import pytest

from services.common.subscriber import Rewinds


def test_each_consumer_checks_at_each_time_and_a_failed_check_is_tried_again() -> None:
    rewinds = Rewinds()
    calls: list[str] = []
    failing = [True]

    async def case_state() -> int:
        calls.append("case-state")
        return 0

    async def roster() -> int:
        calls.append("roster")
        if failing[0]:
            failing[0] = False
            raise OSError("PostgreSQL away")
        return 2

    rewinds.reconcilers["t.hub.intake.events.v1"] = [case_state, roster]
    rewinds.schedule_reconciliation("t.hub.intake.events.v1", 0.0)
    rewinds.schedule_reconciliation("t.partner.forem.inbound.v1", 0.0)  # no store
    assert list(rewinds.reconcile_at) == ["t.hub.intake.events.v1"]

    asyncio.run(rewinds.reconcile_due(10.0))  # none due yet
    assert calls == []
    with pytest.raises(OSError, match="away"):
        asyncio.run(rewinds.reconcile_due(25.0))
    assert calls == ["case-state", "roster"]
    asyncio.run(rewinds.reconcile_due(26.0))  # the failed check, again
    assert calls == ["case-state", "roster"] * 2
    asyncio.run(rewinds.reconcile_due(26.5))  # the next is at 60 s
    assert len(calls) == 4
    asyncio.run(rewinds.reconcile_due(500.0))
    asyncio.run(rewinds.reconcile_due(501.0))
    assert len(calls) == 8
    assert rewinds.reconcile_at == {}
