"""POST /api/auth/token and /api/auth/token/refresh (simplejwt)."""

from __future__ import annotations

from testsupport import PASSWORD, bearer

TS = 1704067200000


def obtain(api, username, password=PASSWORD):
    return api.post("/api/auth/token", {"username": username, "password": password}, format="json")


def history_as(api, token):
    return api.get("/api/history", {"deviceId": "esp32-01"}, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_user_gets_tokens_that_read_history(api, device, alice):
    response = obtain(api, "alice")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert history_as(api, response.json()["access"]).json()["deviceId"] == "esp32-01"


def test_a_wrong_password_is_401_json(api, alice):
    response = obtain(api, "alice", "wrong")

    assert response.status_code == 401
    assert response.json() == {
        "ok": False,
        "error": "No active account found with the given credentials",
    }


def test_a_missing_password_is_400_json(api, alice):
    response = api.post("/api/auth/token", {"username": "alice"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "password: This field is required."


def test_get_is_405(api):
    assert api.get("/api/auth/token").status_code == 405


def test_the_refresh_token_gives_a_new_access_token(api, device, alice):
    refresh = obtain(api, "alice").json()["refresh"]

    response = api.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 200
    assert history_as(api, response.json()["access"]).status_code == 200


def test_a_garbage_refresh_token_is_401(api):
    response = api.post("/api/auth/token/refresh", {"refresh": "garbage"}, format="json")

    assert response.status_code == 401
    assert response.json()["ok"] is False


def test_a_deactivated_users_token_stops_working(api, device, alice):
    tokens = obtain(api, "alice").json()
    alice.is_active = False
    alice.save()

    assert history_as(api, tokens["access"]).status_code == 401
    refreshed = api.post("/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 401


def test_a_deleted_users_refresh_token_is_401_not_500(api, alice):
    refresh = obtain(api, "alice").json()["refresh"]
    alice.delete()

    response = api.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json()["ok"] is False


def test_users_of_a_deactivated_tenant_get_401(api, device, tenant, alice):
    headers = bearer(alice)
    tenant.is_active = False
    tenant.save()

    assert api.get("/api/history", {"deviceId": "esp32-01"}, **headers).status_code == 401
    assert obtain(api, "alice").status_code == 401
