"""The hub's Kafka clients authenticate as configured (ADR 0027)."""

from __future__ import annotations

from faststream.security import SASLScram512

from services.common.kafka import broker_security, client_security
from services.common.settings import HubSettings


def test_the_embedded_broker_takes_plaintext_clients_without_credentials() -> None:
    settings = HubSettings()
    assert client_security(settings) == {}
    assert broker_security(settings) is None


def test_a_sasl_deployment_gives_every_client_its_principal_and_mechanism() -> None:
    settings = HubSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="hub_intake",
        kafka_sasl_password="secret",
    )
    assert client_security(settings) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "hub_intake",
        "sasl_plain_password": "secret",
    }
    security = broker_security(settings)
    assert isinstance(security, SASLScram512)
    assert security.use_ssl is False


def test_sasl_ssl_adds_a_tls_context() -> None:
    settings = HubSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="hub_piis",
        kafka_sasl_password="secret",
    )
    assert "ssl_context" in client_security(settings)
    security = broker_security(settings)
    assert security is not None
    assert security.use_ssl is True
