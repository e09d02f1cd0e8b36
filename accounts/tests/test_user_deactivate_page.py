"""A tenant admin deactivates a user of their own tenant (POST only)."""

from __future__ import annotations

from django.urls import reverse

from accounts import errors
from accounts.models import User
from testsupport import PASSWORD


def url(user: User) -> str:
    return reverse("accounts:user-deactivate", args=[user.pk])


def test_it_deactivates_the_user_who_then_cannot_log_in(ada_client, alice, client_factory):
    response = ada_client.post(url(alice))

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.is_active is False
    assert client_factory().login(username="alice", password=PASSWORD) is False


def test_it_ends_the_users_open_session(ada_client, alice, client_factory):
    alices_browser = client_factory()
    alices_browser.force_login(alice)

    ada_client.post(url(alice))

    assert alices_browser.get(reverse("devices:list")).status_code == 302


def test_it_answers_404_for_another_tenants_user(ada_client, charlie):
    assert ada_client.post(url(charlie)).status_code == 404
    charlie.refresh_from_db()
    assert charlie.is_active is True


def test_an_admin_cannot_deactivate_themselves(ada_client, ada):
    response = ada_client.post(url(ada), follow=True)

    assert [str(message) for message in response.context["messages"]] == [errors.NOT_ON_YOURSELF]
    ada.refresh_from_db()
    assert ada.is_active is True


def test_it_answers_405_to_a_get(ada_client, alice):
    assert ada_client.get(url(alice)).status_code == 405
    alice.refresh_from_db()
    assert alice.is_active is True


def test_a_member_gets_403(client, alice, bob):
    client.force_login(alice)

    assert client.post(url(bob)).status_code == 403
    bob.refresh_from_db()
    assert bob.is_active is True
