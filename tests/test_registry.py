"""The registry of processes and consumers is whole and consistent."""

from __future__ import annotations

import inspect
from collections import Counter

import pytest

from contracts.registry import SERVICE_TOPICS
from services.intake.application import IntakeApplication
from services.partner_gateway.application import PartnersApplication
from services.piis.application import PiisApplication
from services.placement.application import PlacementApplication
from services.registry import (
    CONSUMERS,
    PROCESSES,
    Applications,
    ConsumerSpec,
    consumer,
    consumers_of,
)
from services.supervisor import COMPONENTS
from tests.intake.fakes import IN_MEMORY


def in_memory_applications() -> Applications:
    return Applications(
        None,
        (
            IntakeApplication(IN_MEMORY, id_secret="test"),
            PiisApplication(IN_MEMORY, facts=lambda _: None),
            PlacementApplication(IN_MEMORY, facts=lambda _: None),
            PartnersApplication(IN_MEMORY, id_secret="test"),
        ),
    )


@pytest.mark.parametrize("spec", CONSUMERS, ids=lambda s: s.name)
def test_a_consumer_is_named_as_its_fold_and_runs_in_a_declared_process(
    spec: ConsumerSpec,
) -> None:
    assert consumer(spec.name) is spec
    assert spec.projection(in_memory_applications()).name == spec.name
    assert spec.process in PROCESSES
    assert set(spec.services) <= set(SERVICE_TOPICS)


def test_no_two_consumers_of_one_schema_read_the_same_topic() -> None:
    # Positions are kept per schema and stream: two consumers of one topic in
    # one schema would skip each other's events.
    pairs = Counter((c.schema, s) for c in CONSUMERS for s in c.services)
    assert [pair for pair, n in pairs.items() if n > 1] == []


def test_every_process_has_an_entry_point_taking_settings_and_stop() -> None:
    for spec in PROCESSES.values():
        serve = spec.entry_point()
        assert list(inspect.signature(serve).parameters) == ["settings", "stop"]


def test_the_supervisor_runs_every_declared_process() -> None:
    assert tuple(PROCESSES) == COMPONENTS


def test_a_consumer_process_runs_exactly_its_declared_consumers() -> None:
    assert {c.name for c in consumers_of("case-state")} == {
        "case-state",
        "statistics",
        "deadlines",
        "activation",
        "roster",
        "subsidies",
    }
    assert all(c.replayable for c in consumers_of("case-state"))


def test_an_unknown_consumer_names_the_known_ones() -> None:
    with pytest.raises(LookupError, match="case-state"):
        consumer("nope")
