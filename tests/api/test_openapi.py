"""Both OpenAPI documents are generated from the pydantic schemas, validate as OpenAPI 3.1, and
describe every endpoint, parameter and field (in Chinese and English)."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture()
def public_client(app, db, tmp_root):
    import public_site
    from tests.conftest import app_config

    return public_site.create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root)).test_client()


def _undescribed(doc: dict) -> list[str]:
    """Every path of the document where an operation, parameter, schema or property lacks a
    bilingual description."""
    missing: list[str] = []

    def bilingual(text) -> bool:
        return bool(text) and bool(CJK.search(text)) and bool(LATIN.search(text))

    def walk_schema(schema: dict, where: str) -> None:
        if not isinstance(schema, dict):
            return
        for name, prop in (schema.get("properties") or {}).items():
            if "$ref" not in prop and not bilingual(prop.get("description")):
                missing.append(f"{where}.{name}")
            elif "$ref" in prop and not bilingual(prop.get("description")):
                missing.append(f"{where}.{name}")
            walk_schema(prop, f"{where}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk_schema(schema[key], f"{where}[]")
        for key in ("anyOf", "oneOf", "allOf"):
            for i, sub in enumerate(schema.get(key) or []):
                walk_schema(sub, f"{where}|{i}")

    for name, schema in doc["components"]["schemas"].items():
        if not bilingual(schema.get("description")):
            missing.append(f"schema {name}")
        walk_schema(schema, name)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            if not bilingual(op.get("summary")):
                missing.append(where)
            for param in op.get("parameters", []):
                if not bilingual(param.get("description")):
                    missing.append(f"{where} ?{param['name']}")
            for status, response in op["responses"].items():
                if not response.get("description"):
                    missing.append(f"{where} → {status}")
                for content in (response.get("content") or {}).values():
                    walk_schema(content["schema"], f"{where} → {status}")
            if "requestBody" in op:
                walk_schema(op["requestBody"]["content"]["application/json"]["schema"], f"{where} body")
    return missing


def test_portal_document_validates_and_describes_every_field(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert _undescribed(doc) == []
    expected = {"/api/v1/projects", "/api/v1/projects/{project_id}", "/api/v1/projects/{project_id}/goals",
                "/api/v1/projects/{project_id}/monitoring", "/api/v1/evaluations", "/api/v1/projects/bulk",
                "/api/v1/problems", "/api/v1/problems/{problem_id}", "/api/v1/inquiries",
                "/api/v1/inquiries/{letter_id}", "/api/v1/reviews", "/api/v1/reviews/{report_id}",
                "/api/v1/conferences", "/api/v1/library"}
    assert expected <= set(doc["paths"])
    library = {p["name"]: p for p in doc["paths"]["/api/v1/library"]["get"]["parameters"]}
    assert library["kind"]["schema"]["anyOf"][0]["enum"]  # the enum comes from the model


def test_public_document_validates_and_describes_every_field(public_client):
    doc = public_client.get("/api/v1/public/openapi.json").get_json()
    validate(doc)
    assert _undescribed(doc) == []
    assert {"/api/v1/public/snapshots", "/api/v1/public/search"} <= set(doc["paths"])
