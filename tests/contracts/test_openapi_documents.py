"""The committed OpenAPI documents are those the five APIs serve (ADR 0015)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from services.openapi_export import DOCS_DIR, FILES, stale_documents
from tests.common.apis import five_apis


def test_committed_openapi_documents_are_current() -> None:
    assert stale_documents() == [], "run `python -m services.openapi_export` and commit"


def test_each_committed_document_is_what_its_api_serves() -> None:
    for name, api in five_apis().items():
        with TestClient(api) as client:
            served = client.get("/openapi.json").json()
        assert json.loads((DOCS_DIR / FILES[name]).read_text()) == served, name
