"""Prometheus metrics shared by the hub's processes (low-cardinality labels only)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "COMMANDS",
    "COMMAND_SECONDS",
    "CONSUMER_APPLIED",
    "CONSUMER_BATCH_SECONDS",
    "CONSUMER_DUPLICATES",
    "CONSUMER_ERRORS",
    "CONSUMER_GAPS",
    "CONSUMER_HEALED",
    "CONSUMER_LAG",
    "CONSUMER_RECONCILED",
    "CONSUMER_REWINDS",
    "DEAD_LETTERS",
    "DEAD_LETTERS_RETRIED",
    "EVENTS_APPENDED",
    "PARTNER_HELD",
    "PARTNER_HELD_AGE",
    "PROJECTION_LAG_SECONDS",
    "RELAY_ERRORS",
    "RELAY_LAG",
    "RELAY_PARKED",
    "RELAY_POSITION",
    "RELAY_PUBLISHED",
    "RELAY_PUBLISH_SECONDS",
    "RELAY_REPUBLISHES",
]

COMMANDS = Counter(
    "hub_commands_total",
    "Commands handled, by service, command and outcome.",
    ["service", "command", "outcome"],
)
COMMAND_SECONDS = Histogram(
    "hub_command_seconds",
    "Time to handle a command, store included.",
    ["service", "command"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1.0),
)
EVENTS_APPENDED = Counter(
    "hub_events_appended_total", "Events appended to the event store.", ["service"]
)
RELAY_PUBLISHED = Counter(
    "hub_relay_published_total",
    "Events the relay published and the broker acked.",
    ["service"],
)
RELAY_POSITION = Gauge(
    "hub_relay_position",
    "Last notification id acknowledged by the broker.",
    ["service"],
)
RELAY_LAG = Gauge(
    "hub_relay_lag_events",
    "Stored events not yet acknowledged by the broker.",
    ["service"],
)
RELAY_PUBLISH_SECONDS = Histogram(
    "hub_relay_store_to_ack_seconds",
    "From the event's recorded_at to the broker's acknowledgement.",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
RELAY_REPUBLISHES = Counter(
    "hub_relay_republish_total",
    "Times the relay found a new or emptied broker and republished from the start.",
    ["service"],
)
CONSUMER_REWINDS = Counter(
    "hub_consumer_rewinds_total",
    "Times a consumer found its topic on a new copy and read it again from the start.",
    ["topic"],
)
CHAIN_UNSIGNED = Gauge(
    "hub_chain_unsigned_records",
    "Records chained after the store's last signed checkpoint, as the relay last "
    "saw them (0 once a checkpoint covers them).",
    ["store"],
)
CHAIN_CHECKPOINT_TIME = Gauge(
    "hub_chain_last_checkpoint_timestamp_seconds",
    "When the store's last checkpoint was signed (Unix time).",
    ["store"],
)
CHAIN_CHECKPOINT_FAILURES = Counter(
    "hub_chain_checkpoint_failures_total",
    "Ticks at which the relay could not sign the store's chain head.",
    ["store"],
)
RELAY_PARKED = Counter(
    "hub_relay_parked_total",
    "Events the relay could not publish and parked, with those of their case behind.",
    ["service"],
)
RELAY_ERRORS = Counter(
    "hub_relay_errors_total", "Relay rounds that failed and were retried.", ["service"]
)
CONSUMER_APPLIED = Counter(
    "hub_consumer_applied_total", "Events applied by a consumer.", ["consumer"]
)
CONSUMER_DUPLICATES = Counter(
    "hub_consumer_duplicates_total",
    "Redelivered events a consumer recognised and skipped.",
    ["consumer"],
)
CONSUMER_GAPS = Counter(
    "hub_consumer_gaps_total",
    "Events that arrived ahead of a missing predecessor (filled from the store).",
    ["consumer"],
)
CONSUMER_HEALED = Counter(
    "hub_consumer_gaps_healed_total",
    "Events a consumer read from the event store to fill a version gap on arrival.",
    ["consumer"],
)
CONSUMER_RECONCILED = Counter(
    "hub_consumer_reconciled_total",
    "Stored events a consumer read from the event store after a broker loss, "
    "because they had not come from the topic's new copy.",
    ["consumer"],
)
CONSUMER_ERRORS = Counter(
    "hub_consumer_errors_total",
    "Consumer batches that failed and were retried.",
    ["consumer"],
)
CONSUMER_BATCH_SECONDS = Histogram(
    "hub_consumer_batch_seconds",
    "Time to apply one batch in one transaction.",
    ["consumer"],
)
CONSUMER_LAG = Gauge(
    "hub_consumer_lag_messages",
    "Messages between the consumer's position and the end of its partitions.",
    ["consumer"],
)
PROJECTION_LAG_SECONDS = Gauge(
    "hub_projection_lag_seconds",
    "Age (now - recorded_at) of the last event a projection applied.",
    ["consumer"],
)
DEAD_LETTERS_RETRIED = Counter(
    "hub_dead_letters_retried_total",
    "Dead letters the sweep re-drove by itself, by outcome.",
    ["consumer", "outcome"],
)
DEAD_LETTERS = Gauge(
    "hub_dead_letters_parked", "Messages parked in the dead-letter store.", ["consumer"]
)
PARTNER_HELD = Gauge(
    "hub_partner_messages_held",
    "Partner messages held by the gateway until their predecessor arrives.",
    ["partner"],
)
PARTNER_HELD_AGE = Gauge(
    "hub_partner_messages_held_oldest_seconds",
    "How long the oldest held partner message has waited (0: none held).",
    ["partner"],
)
