"""The envelope every hub event carries, and the marker for personal-data fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.text import Identifier

__all__ = ["ContractEvent", "personal_data"]

PERSONAL_DATA_KEY = "x-personal-data"


def personal_data(description: str, **kwargs: Any) -> Any:
    """A field holding personal data (NISS, names, birth date, address).

    The marker reaches the JSON Schema as ``"x-personal-data": true`` so that
    per-person encryption and the partner allow-lists can find these fields
    without any change to the contract.
    """
    return Field(
        description=description, json_schema_extra={PERSONAL_DATA_KEY: True}, **kwargs
    )


class ContractEvent(BaseModel):
    """Base of every hub event: the envelope of docs/architecture.md#42-envelope.

    The same model is what the event store holds (minus ``recorded_at``, which
    the store sets) and what Kafka carries: one definition, not two.
    """

    # Errors never quote a value: it may be a name or a health matter.
    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    event_type: Identifier = Field(
        description="Type of the event: hub.<service>.<subject>.<action>.v<major>."
    )
    schema_version: int = Field(
        description="Major version of the contract; a breaking change is a new type."
    )
    event_id: uuid.UUID = Field(
        description="Unique id of the event, derived from (stream_id, stream_version), "
        "so a republished event keeps its id and consumers can deduplicate on it."
    )
    occurred_at: AwareDatetime = Field(
        description="Business time: when the fact happened, as stated by the command "
        "(e.g. the date of the bilan), with timezone."
    )
    recorded_at: AwareDatetime | None = Field(
        default=None,
        description="Store time: when the event store appended the event. Set by "
        "PostgreSQL; always present on published events.",
    )
    stream_id: uuid.UUID = Field(
        description="Id of the aggregate (event stream) that emitted the event."
    )
    stream_version: int = Field(
        ge=1, description="Position of the event in its stream, from 1, without gaps."
    )
    case_id: uuid.UUID = Field(
        description="Id of the beneficiary's case at the CPAS; the Kafka key, so one "
        "case's events stay in order."
    )
    cpas_kbo: str = Field(
        pattern=r"^[01]\d{9}$",
        max_length=10,
        description="KBO/BCE enterprise number of the CPAS that owns the case "
        "(10 digits).",
    )
    correlation_id: uuid.UUID = Field(
        description="Id shared by every event that follows from one original request."
    )
    causation_id: uuid.UUID | None = Field(
        default=None,
        description="Id of the command or event that directly caused this one.",
    )
    command_digest: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{32}$",
        max_length=32,
        description="Keyed digest of the command that caused the event (its type "
        "and fields), so that a command id reused for a different command is "
        "refused; a digest, not the fields, since those may be personal data.",
    )

    # Read by eventsourcing's Application.save() and Repository.
    @property
    def originator_id(self) -> uuid.UUID:
        """The aggregate id, under the name the eventsourcing library uses."""
        return self.stream_id

    @property
    def originator_version(self) -> int:
        """The stream version, under the name the eventsourcing library uses."""
        return self.stream_version

    @property
    def timestamp(self) -> datetime:
        """The business time, under the name the eventsourcing library uses."""
        return self.occurred_at

    def to_json_bytes(self) -> bytes:
        """The published form: the whole model as UTF-8 JSON."""
        return self.model_dump_json().encode()
