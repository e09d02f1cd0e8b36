"""The OpenAPI 3 description at /api/schema/ and its browsable docs at /api/docs/."""

from __future__ import annotations

import pytest

ENDPOINTS = {
    "/api/event": "post",
    "/api/events": "post",
    "/api/history": "get",
    "/api/auth/token": "post",
    "/api/auth/token/refresh": "post",
}


@pytest.fixture
def schema(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_it_describes_every_endpoint_as_devices_spell_it(schema):
    assert schema["openapi"].startswith("3.")
    assert {path: set(item) for path, item in schema["paths"].items()} == {
        path: {method} for path, method in ENDPOINTS.items()
    }


def test_it_describes_the_auth_schemes(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["DeviceKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": schemes["DeviceKey"]["description"],
    }
    assert (schemes["Bearer"]["type"], schemes["Bearer"]["scheme"]) == ("http", "bearer")
    assert (schemes["Session"]["in"], schemes["Session"]["name"]) == ("cookie", "sessionid")
    assert schema["paths"]["/api/event"]["post"]["security"] == [
        {"DeviceKey": []},
        {"Bearer": []},
        {"Session": []},
    ]
    assert "security" not in schema["paths"]["/api/auth/token"]["post"] or schema["paths"][
        "/api/auth/token"
    ]["post"]["security"] in ([], [{}])


@pytest.mark.parametrize(("path", "codes"), [
    ("/api/event", {"200", "400", "401", "403", "404", "405", "409", "413", "415", "429", "503"}),
    ("/api/events", {"200", "400", "401", "403", "404", "405", "413", "415", "429", "503"}),
    ("/api/history", {"200", "400", "401", "403", "404", "405", "429", "503"}),
    ("/api/auth/token", {"200", "400", "401", "405", "413", "415", "429", "503"}),
    ("/api/auth/token/refresh", {"200", "400", "401", "405", "413", "415", "503"}),
])  # fmt: skip
def test_every_error_is_described_in_the_one_error_shape(schema, path, codes):
    operation = schema["paths"][path][ENDPOINTS[path]]
    assert set(operation["responses"]) == codes
    for code in codes - {"200"}:
        content = operation["responses"][code]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Error"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["ok", "error"]


def test_the_legacy_body_is_an_example(schema):
    examples = schema["paths"]["/api/event"]["post"]["requestBody"]["content"]["application/json"][
        "examples"
    ]
    assert examples["LegacyFirmware"]["value"] == {
        "deviceId": "esp32-01",
        "state": "ON",
        "ts": 1704067200000,
        "valveId": 1,
    }


def test_history_documents_its_parameters(schema):
    names = {p["name"] for p in schema["paths"]["/api/history"]["get"]["parameters"]}
    assert names == {"deviceId", "range", "limit", "channel", "from", "to", "resolution", "format"}


def test_history_documents_its_csv_answer(schema):
    responses = schema["paths"]["/api/history"]["get"]["responses"]
    assert set(responses["200"]["content"]) == {"application/json", "text/csv"}
    assert set(responses["400"]["content"]) == {"application/json"}


def test_the_docs_page_serves_its_own_assets(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
