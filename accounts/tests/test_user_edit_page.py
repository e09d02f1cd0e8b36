"""A tenant admin changes the role of a user of their own tenant."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import errors
from accounts.models import Role, User


def url(user: User) -> str:
    return reverse("accounts:user-edit", args=[user.pk])


def test_it_shows_the_users_current_role(ada_client, alice):
    response = ada_client.get(url(alice))

    assert response.status_code == 200
    assert response.context["form"]["role"].value() == Role.MEMBER


def test_it_changes_the_role(ada_client, alice):
    response = ada_client.post(url(alice), {"role": Role.ADMIN})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.role == Role.ADMIN


def test_it_answers_404_for_another_tenants_user(ada_client, charlie):
    assert ada_client.get(url(charlie)).status_code == 404
    assert ada_client.post(url(charlie), {"role": Role.VIEWER}).status_code == 404
    charlie.refresh_from_db()
    assert charlie.role == Role.MEMBER


def test_it_answers_404_for_a_missing_user(ada_client):
    assert ada_client.get(reverse("accounts:user-edit", args=[999999])).status_code == 404


def test_an_admin_cannot_change_their_own_role(ada_client, ada):
    response = ada_client.post(url(ada), {"role": Role.VIEWER})

    assert response.context["form"].errors["role"] == [errors.NOT_ON_YOURSELF]
    ada.refresh_from_db()
    assert ada.role == Role.ADMIN


def test_it_refuses_an_unknown_role(ada_client, alice):
    response = ada_client.post(url(alice), {"role": "owner"})

    assert response.context["form"].errors["role"]
    alice.refresh_from_db()
    assert alice.role == Role.MEMBER


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_members_and_viewers_get_403(client, who, request, alice):
    client.force_login(request.getfixturevalue(who))

    assert client.post(url(alice), {"role": Role.ADMIN}).status_code == 403
    alice.refresh_from_db()
    assert alice.role == Role.MEMBER


def test_a_logged_out_visitor_is_sent_to_log_in(client, alice):
    response = client.get(url(alice))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
