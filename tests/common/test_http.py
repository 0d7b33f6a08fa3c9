"""Every API caps its request bodies and their nesting before a route reads them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from psycopg_pool import PoolTimeout

from services.common.http import service_api

CAP = 100


@pytest.fixture
def client() -> Iterator[TestClient]:
    api: FastAPI = service_api(
        "test", "A route that echoes its body.", {}, max_request_bytes=CAP
    )

    @api.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {"size": len(await request.body())}

    with TestClient(api) as test_client:
        yield test_client


def refusal(rule: str, message: str) -> dict[str, Any]:
    return {"detail": [{"loc": ["body"], "msg": message, "type": rule}]}


def test_a_body_up_to_the_cap_reaches_the_route_whole(client: TestClient) -> None:
    answer = client.post("/echo", content=b"x" * CAP)
    assert (answer.status_code, answer.json()) == (200, {"size": CAP})


def test_a_body_announced_over_the_cap_is_refused_unread(client: TestClient) -> None:
    answer = client.post("/echo", content=b"x" * (CAP + 1))
    assert answer.status_code == 413
    assert answer.json() == refusal(
        "body.too_large", f"body: a request body is at most {CAP} bytes"
    )


def test_a_chunked_body_is_refused_once_it_grows_past_the_cap(
    client: TestClient,
) -> None:
    chunks = (b"x" * 30 for _ in range(10))  # no Content-Length: chunked
    answer = client.post("/echo", content=chunks)
    assert answer.status_code == 413
    assert answer.json()["detail"][0]["type"] == "body.too_large"
    small = client.post("/echo", content=(b"x" * 30 for _ in range(3)))
    assert small.json() == {"size": 90}


def test_a_body_nested_too_deeply_is_refused(client: TestClient) -> None:
    answer = client.post("/echo", content=b"[" * 40 + b"]" * 40)
    assert answer.status_code == 422
    assert answer.json() == refusal(
        "json.too_deep", "body: JSON nested deeper than 32 levels"
    )


@pytest.mark.parametrize(
    "failure",
    [
        psycopg.OperationalError("connection lost"),
        persistence.OperationalError("connection lost"),
        PoolTimeout("no connection"),
    ],
)
def test_an_unreachable_database_answers_503_and_stores_nothing(
    failure: Exception,
) -> None:
    api: FastAPI = service_api("test", "A route whose database is away.", {})

    @api.post("/command")
    def command() -> None:
        raise failure

    with TestClient(api, raise_server_exceptions=False) as test_client:
        answer = test_client.post("/command", json={})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "2"
    assert answer.json()["detail"][0]["type"] == "service.unavailable"
