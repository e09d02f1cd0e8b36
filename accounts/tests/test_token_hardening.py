"""JWT hardening: short-lived access, rotating refresh, password change and tenant claim."""

from __future__ import annotations

from rest_framework_simplejwt.tokens import AccessToken

from testsupport import PASSWORD


def obtain(api, username="alice"):
    body = {"username": username, "password": PASSWORD}
    return api.post("/api/auth/token", body, format="json").json()


def refresh(api, token):
    return api.post("/api/auth/token/refresh", {"refresh": token}, format="json")


def history_as(api, access):
    return api.get("/api/history", {"deviceId": "esp32-01"}, HTTP_AUTHORIZATION=f"Bearer {access}")


def test_access_tokens_live_15_minutes_and_name_the_tenant(api, alice):
    access = AccessToken(obtain(api)["access"])

    assert access["exp"] - access["iat"] == 15 * 60
    assert access["tenant"] == "acme"
    assert access["user_id"] == str(alice.pk)


def test_a_refresh_rotates_and_the_old_refresh_token_is_refused(api, device, alice):
    first = obtain(api)["refresh"]

    rotated = refresh(api, first).json()
    again = refresh(api, first)

    assert set(rotated) == {"access", "refresh"} and rotated["refresh"] != first
    assert again.status_code == 401
    assert again.json() == {"ok": False, "error": "Token is blacklisted"}
    assert refresh(api, rotated["refresh"]).status_code == 200
    assert AccessToken(rotated["access"])["tenant"] == "acme"


def test_a_password_change_ends_the_users_tokens(api, device, alice):
    tokens = obtain(api)
    alice.set_password("a-whole-new-passphrase")
    alice.save()

    assert history_as(api, tokens["access"]).status_code == 401
    response = refresh(api, tokens["refresh"])
    assert response.status_code == 401
    assert response.json()["ok"] is False
    assert "access" not in response.json()


def test_an_access_token_is_not_a_refresh_token(api, alice):
    response = refresh(api, obtain(api)["access"])

    assert response.status_code == 401
    assert response.json() == {"ok": False, "error": "Token has wrong type"}


def test_a_refresh_token_is_not_an_access_token(api, device, alice):
    response = history_as(api, obtain(api)["refresh"])

    assert response.status_code == 401
    assert response.json()["ok"] is False
