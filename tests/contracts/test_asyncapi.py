"""The AsyncAPI page integrators read is generated from the committed schemas."""

from __future__ import annotations

from contracts.asyncapi import document, main
from contracts.registry import EVENT_TYPES, SERVICE_TOPICS, STATE_TOPICS


def test_the_committed_document_is_current() -> None:
    assert main(["--check"]) == 0, "run: python -m contracts.asyncapi"


def test_every_service_topic_and_event_is_documented() -> None:
    doc = document()
    assert set(SERVICE_TOPICS.values()) <= set(doc["channels"])
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert set(EVENT_TYPES) <= names


def test_every_partner_has_both_topics() -> None:
    channels = document()["channels"]
    for code in ("forem", "actiris", "vdab", "adg"):
        assert f"partner.{code}.outbound.v1" in channels
        assert f"partner.{code}.inbound.v1" in channels


def test_the_case_state_topic_is_documented_compacted_and_keyed_by_case() -> None:
    doc = document()
    assert set(STATE_TOPICS) <= set(doc["channels"])
    channel = doc["channels"]["hub.case-state.v1"]
    config = channel["bindings"]["kafka"]["topicConfiguration"]
    assert config["cleanup.policy"] == ["compact"]
    for words in ("keyed by the case id", "highest `version`", "compact"):
        assert words in channel["description"]
    [ref] = channel["messages"].values()
    message = doc["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
    assert message["bindings"]["kafka"]["key"]["format"] == "uuid"
    assert message["payload"]["$id"] == "urn:cpas-hub:state:hub.case-state.v1"
