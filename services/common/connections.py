"""The check a connection pool runs before it hands out a connection.

The stock check (``pre_ping``) sends an empty query on every checkout: one
round trip per command, about an eighth of a command's time under load. A
connection PostgreSQL has dropped (a restart, a terminated backend, a
failover) has had its socket closed or been sent a final error, so its socket
has something to read while nobody is reading it. This check looks at the
socket without waiting, and pings only a connection whose socket has news or
that sat unused long enough for a middlebox to have forgotten it
(docs/decisions/0029-connection-check.md).
"""

from __future__ import annotations

import select
import threading
import time
import weakref
from typing import Any

import psycopg
import psycopg_pool

__all__ = ["check_before_use", "install_check"]

# Past this, a connection is pinged even when its socket is quiet: a firewall
# may drop an idle TCP connection without telling either end.
IDLE_PING_SECONDS = 10.0

_last_checked: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = (
    weakref.WeakKeyDictionary()
)
_guard = threading.Lock()


def _socket_has_news(conn: psycopg.Connection[Any]) -> bool:
    poller = select.poll()  # not select(): any file number, however high
    poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def check_before_use(conn: psycopg.Connection[Any]) -> None:
    """Raise when the connection is gone; ping it only when it may be."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    now = time.monotonic()
    with _guard:
        last = _last_checked.get(conn)
    if last is None or now - last > IDLE_PING_SECONDS or _socket_has_news(conn):
        psycopg_pool.ConnectionPool.check_connection(conn)
    with _guard:
        _last_checked[conn] = now


def install_check(pool: psycopg_pool.ConnectionPool[Any]) -> bool:
    """Put this check in place of a pool's stock ping; whether it did.

    The event store's pool is made by the library, which offers only the
    stock check (``POSTGRES_PRE_PING``): a pool made without one keeps none.
    """
    stock = psycopg_pool.ConnectionPool.check_connection
    if getattr(pool, "_check", None) is not stock:
        return False
    pool._check = check_before_use  # noqa: SLF001 - no public setter
    return True
