"""The pool's check: a ping only for a connection that may be gone (ADR 0029)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import psycopg_pool
import pytest

from services.common import connections
from services.common.connections import check_before_use, install_check


def _pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sent: list[int] = []
    stock = psycopg_pool.ConnectionPool.check_connection

    def counted(conn: psycopg.Connection[Any]) -> None:
        sent.append(1)
        stock(conn)

    monkeypatch.setattr(psycopg_pool.ConnectionPool, "check_connection", counted)
    return sent


def test_a_connection_used_a_moment_ago_with_a_quiet_socket_is_not_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _pings(monkeypatch)
    with psycopg.connect(database_url, autocommit=True) as conn:
        check_before_use(conn)  # never seen: pinged
        conn.execute("SELECT 1")
        check_before_use(conn)
        check_before_use(conn)
    assert len(pings) == 1


def test_a_connection_idle_past_the_limit_is_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _pings(monkeypatch)
    monkeypatch.setattr(connections, "IDLE_PING_SECONDS", 0.05)
    with psycopg.connect(database_url, autocommit=True) as conn:
        check_before_use(conn)
        time.sleep(0.1)
        check_before_use(conn)
    assert len(pings) == 2


def test_a_connection_whose_backend_was_terminated_is_refused_at_once(
    database_url: str,
) -> None:
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        psycopg.connect(database_url, autocommit=True) as admin,
    ):
        check_before_use(conn)  # seen and trusted from now on
        admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        time.sleep(0.2)  # the backend's farewell reaches the socket
        with pytest.raises(psycopg.OperationalError):
            check_before_use(conn)


def test_a_pool_hands_out_a_live_connection_after_its_backend_is_terminated(
    database_url: str,
) -> None:
    stock = psycopg_pool.ConnectionPool.check_connection
    with psycopg_pool.ConnectionPool(
        database_url, min_size=1, max_size=1, check=stock, open=True
    ) as pool:
        assert install_check(pool)
        with pool.connection() as conn:
            pid = conn.info.backend_pid
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != pid


def test_a_pool_made_without_a_check_is_left_without_one(database_url: str) -> None:
    with psycopg_pool.ConnectionPool(
        database_url, min_size=0, max_size=1, open=True
    ) as pool:
        assert not install_check(pool)
