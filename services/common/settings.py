"""Settings shared by every hub process, read from the environment (prefix ``HUB_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MIB", "HubSettings"]

MIB = 1024 * 1024


class HubSettings(BaseSettings):
    """Where the hub's infrastructure is and how it behaves.

    When ``HUB_DATABASE_URL`` or ``HUB_KAFKA_BOOTSTRAP_SERVERS`` is empty, ``hub
    run`` starts the embedded PostgreSQL or broker and passes their addresses to
    its children: the same code runs on both, only the URLs differ.
    """

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    database_url: str = Field(
        default="",
        description="PostgreSQL URL (postgresql://user:pw@host:port/db). Empty: "
        "start the embedded PostgreSQL.",
    )
    database_wait_seconds: int = Field(
        default=3,
        ge=1,
        le=60,
        description="How long a command waits for a database connection, per "
        "attempt (the event store tries ten times): with PostgreSQL away, a "
        "caller is told 503 after about ten times this.",
    )
    kafka_bootstrap_servers: str = Field(
        default="",
        description="Kafka bootstrap servers (host:port,...). Empty: start the "
        "embedded Kafka-protocol broker.",
    )
    kafka_enable_idempotence: bool = Field(
        default=False,
        description="Idempotent producer. The embedded broker refuses it; "
        "docker-compose turns it on against Apache Kafka.",
    )
    kafka_max_message_bytes: int = Field(
        default=MIB,
        gt=0,
        description="Largest message the hub sends to the broker: the producers' "
        "max_request_size and the max.message.bytes of the topics the hub creates; "
        "docker-compose gives Apache Kafka the same message.max.bytes. The largest "
        "event validation allows is far below it (ADR 0010); an older stored event "
        "over it is parked by its relay.",
    )
    kafka_partitions: int = Field(default=6, description="Partitions per hub topic.")
    kafka_replication_factor: int = Field(
        default=1, description="Replication factor of the topics the hub creates."
    )
    topic_prefix: str = Field(
        default="",
        description="Prefix of every topic and consumer group (tests isolate "
        "themselves with it).",
    )
    data_dir: Path = Field(
        default=Path(".hub"),
        description="Folder of the embedded PostgreSQL data and of the logs.",
    )
    id_secret: str = Field(
        default="cpas-hub-development-secret",
        description="Secret mixed into derived ids (case ids come from the NISS; "
        "without a secret they could be recomputed from a NISS).",
    )
    production: bool = Field(
        default=False,
        description="Production mode: every process refuses to start with a "
        "development secret, password or key (services/common/production.py). "
        "docker-compose turns it on.",
    )
    api_keys: str = Field(
        default="",
        description="API keys of the HTTP clients, by the SHA-256 of each key "
        '(`hub keys hash`), never the key, as JSON: {"<sha-256 hex>": {"client": '
        '"cpas-liege", "scopes": ["cases:write", "cases:read"], "cpas": '
        '["0212340126"]}}. "cpas" limits the CPAS a client acts for (omit: any); '
        'a partner\'s key has "partner", an auditor\'s "remit" (ADR 0025). Seeds '
        "the table access.api_keys at start; `hub keys` adds, revokes and rotates "
        "keys there without a restart. `hub run` adds a development key.",
    )
    api_key_cache_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="How long an API trusts its last read of access.api_keys: a "
        "key revoked with `hub keys` is refused by every API within this time.",
    )
    ri_amounts_file: Path | None = Field(
        default=None,
        description="CSV of integration-income amounts by valid-from date "
        "(valid_from,cohabitant,isole,family,source). Empty: the shipped table.",
    )
    stats_count_article_60: bool = Field(
        default=True,
        description="Count article 60 workers in the RIS+ERIS files of the ISP "
        "statistics even once their income stopped (as the Molenbeek figures do: "
        "docs/domain/trajectory-and-activation.md#isp-participation-rate).",
    )
    host: str = Field(default="127.0.0.1", description="Interface the HTTP APIs bind.")
    max_request_bytes: int = Field(
        default=MIB,
        gt=0,
        description="Largest HTTP request body an API reads; a longer one is "
        "refused with 413 before it is read whole.",
    )
    intake_port: int = Field(default=8010, description="Port of the intake API.")
    case_state_port: int = Field(
        default=8020, description="Port of the case-state API."
    )
    piis_port: int = Field(default=8030, description="Port of the PIIS API.")
    piis_relay_metrics_port: int = Field(
        default=8031, description="Port of the PIIS relay's /metrics."
    )
    placement_port: int = Field(default=8040, description="Port of the placement API.")
    placement_relay_metrics_port: int = Field(
        default=8041, description="Port of the placement relay's /metrics."
    )
    partner_gateway_port: int = Field(
        default=8050, description="Port of the partner gateway's API."
    )
    partner_relay_metrics_port: int = Field(
        default=8051, description="Port of the partner gateway relay's /metrics."
    )
    partner_endpoints: str = Field(
        default="",
        description='Partners\' HTTPS endpoints for the push, as JSON: {"forem": '
        '{"url": "https://…", "api_key": "…"}}. A partner without one reads its '
        "topic only.",
    )
    cpas_ins_codes: str = Field(
        default="",
        description="The INS/NIS code of each CPAS's municipality, as JSON: "
        '{"0212345668": "21004"}; every SPP IS form names it (ADR 0021). An event '
        "of a CPAS without one is parked until it is configured; with none "
        "configured at all, the hub reports nothing to the SPP IS.",
    )
    relay_metrics_port: int = Field(
        default=8011, description="Port of the intake relay's /metrics."
    )
    relay_batch_size: int = Field(
        default=1000, description="Events the relay reads and publishes per round."
    )
    rebuild_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes sharing a rebuild's cases (`hub projections rebuild`, "
        "`hub check`); more than one takes cores from the running hub.",
    )
    verify_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes sharing `hub audit verify`'s recomputation of a "
        "chain, in one snapshot; more than one takes cores from the running hub.",
    )
    verify_step: Literal["compiled", "python"] = Field(
        default="compiled",
        description="The per-row step of `hub audit verify`'s recomputation: "
        "`compiled` (services/common/_chainlink.c, about three times faster; "
        "Python's where it was not built) or `python` (hashlib, the readable "
        "cross-check). Both give the same verdict.",
    )
    consumer_max_records: int = Field(
        default=500, description="Most messages a consumer applies per transaction."
    )
    consumer_retry_attempts: int = Field(
        default=5,
        ge=1,
        description="Times a consumer tries a batch that failed for a reason that "
        "passes by itself (not yet possible, a lock) before it applies the batch "
        "case by case and parks the cases that still fail.",
    )
    ready_max_lag: int = Field(
        default=10_000,
        ge=0,
        description="Backlog (messages a consumer group has not applied, events a "
        "relay has not published) above which a process answers /ready with 503.",
    )
    chain_checkpoint_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often each relay signs its event store's chain head "
        "when it moved (a checkpoint, docs/audit/tamper-evidence.md): a rewrite "
        "or a removed tail older than the last checkpoint is detected.",
    )
    chain_signing_key_file: Path | None = Field(
        default=None,
        description="PEM file of the Ed25519 private key checkpoints are signed "
        "with. Empty: a development key generated once under HUB_DATA_DIR "
        "(chain-signing-key.pem); `hub audit public-key` prints its public key.",
    )
    chain_public_key_files: tuple[Path, ...] = Field(
        default=(),
        description="PEM files of further public keys checkpoints may be signed "
        "with (a JSON list), for a process that verifies chains without the "
        "signing key, such as the case-state API serving the audit report.",
    )
    master_keys_file: Path | None = Field(
        default=None,
        description="JSON file of the master keys that wrap the per-person data "
        'keys: {"current": "<id>", "keys": {"<id>": "<base64 of 32 bytes>"}}; new '
        "data keys are wrapped with the current one, older ones still unwrap until "
        "`hub vault rotate` rewrapped them (ADR 0023). Empty: a development key kept "
        "in the database itself, which protects nothing (refused in production).",
    )
    vault_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long a process keeps a person's data key in memory: an "
        "erasure reaches every process within this time.",
    )
    erasure_retention_years: int = Field(
        default=10,
        ge=0,
        le=100,
        description="Years a person's file is kept after its last stored event "
        "before `hub erase` erases it without --force. The CPAS sets it from its "
        "retention schedule; the hub presumes no legal period "
        "(docs/decisions/0023-envelope-encryption.md).",
    )
    log_level: str = Field(default="INFO", description="Python log level.")
    # -- least privilege below the hub (ADR 0027) ---------------------------
    database_role_passwords: str = Field(
        default="",
        description="Passwords of the services' database roles, as JSON: "
        '{"hub_intake": "…", "hub_operator": "…"}, used by `hub db setup` '
        "(under the owner's HUB_DATABASE_URL). A role left out keeps the "
        "password generated once under HUB_DATA_DIR (database-roles.json, "
        "mode 0600), as `hub run` does.",
    )
    dead_letter_retention_days: int = Field(
        default=90,
        ge=1,
        description="Days `hub purge` keeps a dead letter once it was re-driven or "
        "discarded (counted from when it was parked); a parked or held one is "
        "kept whatever its age.",
    )
    outbox_retention_days: int = Field(
        default=30,
        ge=1,
        description="Days `hub purge` keeps a partner outbox row once every "
        "channel of its partner delivered it; an undelivered one is kept.",
    )
    partner_topic_retention_hours: int = Field(
        default=168,
        ge=1,
        le=8760,
        description="Hours a partner's topics keep a message (retention.ms, set "
        "when the hub creates them): they carry it in the partner's format, "
        "personal data in clear as its legal basis needs, so an erasure cannot "
        "reach what the broker still holds; it is gone after this time.",
    )
    kafka_security_protocol: str = Field(
        default="PLAINTEXT",
        pattern="^(PLAINTEXT|SASL_PLAINTEXT|SASL_SSL)$",
        description="How the hub's Kafka clients authenticate: PLAINTEXT (the "
        "embedded broker), SASL_PLAINTEXT or SASL_SSL (docker-compose: SCRAM).",
    )
    kafka_sasl_mechanism: str = Field(
        default="SCRAM-SHA-512",
        pattern="^(SCRAM-SHA-256|SCRAM-SHA-512|PLAIN)$",
        description="SASL mechanism when the protocol is SASL_*.",
    )
    kafka_sasl_username: str = Field(
        default="", description="This process's Kafka principal (SASL_* only)."
    )
    kafka_sasl_password: str = Field(
        default="", description="The principal's password (SASL_* only)."
    )

    @field_validator("chain_signing_key_file", "master_keys_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (docker-compose's default) is no file, not ``.``."""
        return None if value == "" else value

    def topic(self, name: str) -> str:
        """The full name of a topic (with the deployment's prefix)."""
        return f"{self.topic_prefix}{name}"
