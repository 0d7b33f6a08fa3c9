"""The AsyncAPI 3.0 document of the hub's topics, from the committed schemas.

``python -m contracts.asyncapi [--check]`` writes ``docs/asyncapi.json``: one
channel per service topic (``hub.<service>.events.v1``, its messages the
contract events of that service) and per partner topic
(``partner.<code>.outbound.v1`` / ``inbound.v1``, its messages the partner's
own schemas in ``contracts/partners/``; SPP IS's forms and answers too), and
one per state topic
(``hub.case-state.v1``: the whole state of each case, compacted). Every
message's payload is the committed JSON Schema, so the page an integrator
reads is what the tests hold.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

from contracts.export import SCHEMA_DIR, render, state_schema_path
from contracts.registry import EVENT_TYPES, SERVICE_TOPICS, STATE_TOPICS

__all__ = ["DOCUMENT", "document"]

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "asyncapi.json"
PARTNER_SCHEMAS = Path(__file__).parent / "partners"


def _message_name(path: Path) -> str:
    return path.name.removesuffix(".json").replace(".", "_")


def _service_of(event_type: str) -> str:
    return event_type.split(".")[1]


def _service_channels() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for service, topic in SERVICE_TOPICS.items():
        names = []
        for event_type in sorted(EVENT_TYPES):
            if _service_of(event_type) != service:
                continue
            schema = json.loads((SCHEMA_DIR / f"{event_type}.json").read_text())
            name = event_type.replace(".", "_")
            names.append(name)
            messages[name] = {
                "name": event_type,
                "title": schema.get("title", event_type),
                "summary": (schema.get("description") or "").split("\n")[0],
                "contentType": "application/json",
                "payload": schema,
            }
        channels[topic] = {
            "address": topic,
            "description": f"Events of the {service} service, keyed by case id "
            "(one case's events in order). At-least-once: consumers dedupe on "
            "(stream_id, stream_version).",
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
        }
        operations[f"publish_{service}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic}"},
            "summary": f"The {service} relay publishes every stored event.",
        }
    return channels, operations, messages


# What an integrator needs to know to subscribe to a state topic.
_STATE_TOPIC_DESCRIPTION = (
    "The whole current state of each case (docs/decisions/0016-whole-case-"
    "state-and-its-topic.md): one message per change, keyed by the case id "
    "(UTF-8 text of its UUID), the value the case's whole state, never a "
    "delta. The topic is created with cleanup.policy=compact, so the broker "
    "keeps at least the last message of each key: a new subscriber reads it "
    "from the beginning and has every case. Delivery is at least once and a "
    "broker may not have compacted yet (the embedded one never does): keep, "
    "per key, the message with the highest `version` (an integer that grows "
    "with every event folded into the state; the same version is the same "
    "state, the later message of equal version wins) and ignore the others. "
    "A null value (a tombstone) means the person's file was erased: drop the "
    "case. No identity: no NISS, no name; the social-activation scores are "
    "marked x-personal-data and travel sealed (see the document's "
    "description). A new optional field may appear in a later version of "
    "the same schema: ignore what you do not know."
)


def _state_channels() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in STATE_TOPICS:
        schema = json.loads(state_schema_path(topic).read_text())
        name = topic.replace(".", "_").replace("-", "_")
        messages[name] = {
            "name": topic,
            "title": schema.get("title", topic),
            "summary": (schema.get("description") or "").split("\n")[0],
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "version": {
                        "type": "string",
                        "description": "The state's version, as decimal text "
                        "(the same as the payload's).",
                    }
                },
            },
            "payload": schema,
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "format": "uuid",
                        "description": "The case id: the compaction key.",
                    },
                    "bindingVersion": "0.5.0",
                }
            },
        }
        channels[topic] = {
            "address": topic,
            "description": _STATE_TOPIC_DESCRIPTION,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "kafka": {
                    "topicConfiguration": {"cleanup.policy": ["compact"]},
                    "bindingVersion": "0.5.0",
                }
            },
        }
        operations[f"publish_{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic}"},
            "summary": "The case-state process publishes a case's whole state "
            "after each change, keyed by case id.",
        }
    return channels, operations, messages


# SPP IS is not a regional partner: its own words on its channels (ADR 0021).
_SPP_IS: Final = "spp_is"
_SPP_IS_DESCRIPTIONS: Final = {
    "outbound": "Forms B, C and D the hub sends to SPP IS, each once (a form "
    "sent again is a new form with its own id), keyed by the case id (UTF-8 "
    "text of its UUID) so that a case's forms stay in order; the header "
    "message-id is the form's identifiant_formulaire. Also pushed to SPP IS's "
    "endpoint when one is configured. See docs/partners/spp-is.md.",
    "inbound": "SPP IS's acknowledgements (accepted, or rejected with its "
    "reason), keyed by the case id (reference_dossier) so that a case's "
    "answers stay in order; also accepted at POST /partners/spp_is/messages. "
    "One that cannot be read or applied is kept as a dead letter with its "
    "reason. See docs/partners/spp-is.md.",
}


def _partner_description(code: str, direction: str) -> str:
    if code == _SPP_IS:
        return _SPP_IS_DESCRIPTIONS[direction]
    if direction == "outbound":
        return f"Messages the hub sends to {code}"
    return (
        f"Messages {code} sends to the hub, keyed by the person's NISS so that "
        f"one person's messages stay in order; also accepted at POST "
        f"/partners/{code}/messages. See docs/partners/{code}.md."
    )


def _partner_channels() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for partner_dir in sorted(p for p in PARTNER_SCHEMAS.glob("*") if p.is_dir()):
        code = partner_dir.name
        for direction, action in (("outbound", "send"), ("inbound", "receive")):
            topic = f"partner.{code}.{direction}.v1"
            names = []
            for path in sorted((partner_dir / direction).glob("*.json")):
                schema = json.loads(path.read_text())
                name = f"{code}_{direction}_{_message_name(path)}"
                names.append(name)
                messages[name] = {
                    "name": path.name.removesuffix(".json"),
                    "title": schema.get("title", path.name),
                    "summary": (schema.get("description") or "").split("\n")[0],
                    "contentType": "application/json",
                    "payload": schema,
                }
            if not names:
                continue
            channels[topic] = {
                "address": topic,
                "description": _partner_description(code, direction),
                "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            }
            operations[f"{direction}_{code}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{topic}"},
            }
    return channels, operations, messages


def document() -> dict[str, Any]:
    """The whole AsyncAPI document."""
    channels, operations, messages = _service_channels()
    state_channels, state_operations, state_messages = _state_channels()
    partner_channels, partner_operations, partner_messages = _partner_channels()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CPAS integration hub",
            "version": "1",
            "description": "Topics of the hub: each service's events, the "
            "whole state of each case, and the messages exchanged with the "
            "regional employment services and SPP IS. Payloads "
            "are the committed JSON Schemas (contracts/schemas, "
            "contracts/partners); fields marked x-personal-data hold personal data. "
            "On the hub's own topics (events and case state) those fields travel "
            "sealed: they are absent from the message, which carries instead "
            '`"sealed": {"person": <case id>, "box": <base64>}`, an AES-GCM box '
            "of those fields under the person's key; a hub service opens it with "
            "the vault, and once the person's file is erased it no longer opens "
            "(docs/decisions/0023-envelope-encryption.md). The partners' topics "
            "carry each partner's message as its legal basis needs it.",
        },
        "defaultContentType": "application/json",
        "channels": {**channels, **state_channels, **partner_channels},
        "operations": {**operations, **state_operations, **partner_operations},
        "components": {"messages": {**messages, **state_messages, **partner_messages}},
    }


def main(argv: list[str]) -> int:
    """Write the document, or with ``--check`` say whether it is stale."""
    text = render(document())
    if "--check" in argv:
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if current != text:
            print(f"stale: {DOCUMENT} (run python -m contracts.asyncapi)")  # noqa: T201
            return 1
        return 0
    DOCUMENT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
