"""``hub run``: the embedded runtime plus one process per service, stopped as one."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.common.auth import hash_key, parse_api_keys
from services.common.production import DEVELOPMENT_CLIENT, refuse_unsafe_production
from services.common.runtime import EmbeddedBroker, EmbeddedPostgres, create_database
from services.common.settings import HubSettings
from services.registry import PROCESSES

__all__ = [
    "COMPONENTS",
    "Supervisor",
    "api_key_for_demo",
    "embedded_infrastructure",
    "prepare_database",
]

log = logging.getLogger(__name__)

COMPONENTS: tuple[str, ...] = tuple(PROCESSES)
_RESTART_BACKOFF_SECONDS = 1.0


@contextlib.contextmanager
def embedded_infrastructure(settings: HubSettings) -> Iterator[dict[str, str]]:
    """Start what is not configured; yield the environment the children need."""
    env: dict[str, str] = {}
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    try:
        if not settings.database_url:
            postgres = EmbeddedPostgres(settings.data_dir / "pgdata")
            env["HUB_DATABASE_URL"] = create_database(postgres.start(), "hub")
        if not settings.kafka_bootstrap_servers:
            broker = EmbeddedBroker(log_path=settings.data_dir / "logs" / "broker.log")
            env["HUB_KAFKA_BOOTSTRAP_SERVERS"] = broker.start()
        yield env
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()


def prepare_database(
    settings: HubSettings, *, generate_passwords: bool = True
) -> dict[str, str]:
    """Under the owner's URL: the event stores, the roles and their grants.

    Returns each process's own URL (its role's, ADR 0027). Passwords come from
    ``HUB_DATABASE_ROLE_PASSWORDS``, else are generated once under the data
    folder; without ``generate_passwords`` a role not configured keeps the
    password it has (docker-compose: init.sql's), and its URL has none.
    """
    import importlib  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    from services.common.auth import parse_api_keys  # noqa: PLC0415
    from services.common.keys import seed_keys  # noqa: PLC0415
    from services.common.privilege import (  # noqa: PLC0415
        configured_passwords,
        create_shared_tables,
        role_of_process,
        role_passwords,
        role_url,
        setup_database,
    )

    for package in ("intake", "piis", "placement", "partner_gateway"):
        module = importlib.import_module(f"services.{package}.service")
        module.create_application(settings).close()
    create_shared_tables(settings.database_url)
    # The API keys of the configuration: the services' roles read them only.
    with psycopg.connect(settings.database_url) as conn:
        seed_keys(conn, parse_api_keys(settings.api_keys))
    passwords: dict[str, str | None] = (
        dict(role_passwords(settings.data_dir, settings.database_role_passwords))
        if generate_passwords
        else configured_passwords(settings.database_role_passwords)
    )
    setup_database(settings.database_url, passwords)
    return {
        name: role_url(
            settings.database_url,
            role_of_process(name).name,
            passwords.get(role_of_process(name).name) or "",
        )
        for name in PROCESSES
    }


@dataclass
class Child:
    """One service process and how to restart it."""

    name: str
    env: dict[str, str]
    log_dir: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        """Start (or restart) the process in its own process group."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = (self.log_dir / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed args
            [sys.executable, "-m", "services.cli", "serve", self.name],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Supervisor:
    """Runs the children, restarts the ones that die, stops all on request."""

    settings: HubSettings
    env: dict[str, str]
    children: list[Child] = field(default_factory=list)
    # Per process: what it gets besides ``env`` (its own database URL).
    process_env: dict[str, dict[str, str]] = field(default_factory=dict)
    stopping: bool = False

    def start(self) -> None:
        """Start every component (none in production mode with a development secret)."""
        refuse_unsafe_production(self.settings)
        log_dir = self.settings.data_dir / "logs"
        for name in COMPONENTS:
            child = Child(name, {**self.env, **self.process_env.get(name, {})}, log_dir)
            child.start()
            self.children.append(child)

    def watch(self) -> None:
        """Restart children that die, until asked to stop."""
        while not self.stopping:
            for child in self.children:
                if child.process is not None and child.process.poll() is not None:
                    child.restarts += 1
                    log.warning(
                        "%s exited (%s); restarting",
                        child.name,
                        child.process.returncode,
                    )
                    time.sleep(_RESTART_BACKOFF_SECONDS)
                    child.start()
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop every child and wait for it."""
        self.stopping = True
        for child in reversed(self.children):
            child.stop()


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    """Wait until an HTTP endpoint answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:  # noqa: PLR2004
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def api_key_for_demo(settings: HubSettings) -> tuple[str, str]:
    """The development key, and the keys setting the children get.

    The key is made once and kept in the data folder (readable by its owner
    only), so that restarts keep it and the demo can load; the children's
    ``HUB_API_KEYS`` get its hash only, beside the configured hashes (ADR
    0025). In production mode there is none: ``("", the configured keys)``.
    """
    if settings.production:
        return "", settings.api_keys
    parse_api_keys(settings.api_keys)  # refuses a clear key before anything starts
    path = settings.data_dir / "api-key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    key = path.read_text().strip()
    development = {
        "client": DEVELOPMENT_CLIENT,
        "scopes": ["cases:write", "cases:read"],
    }
    configured = json.loads(settings.api_keys) if settings.api_keys.strip() else {}
    return key, json.dumps({**configured, hash_key(key): development})
