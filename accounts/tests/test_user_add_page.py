"""A tenant admin adds a user to their own tenant; a generated password is shown once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import errors
from accounts.models import Role, User

URL = reverse("accounts:user-add")


def test_it_adds_a_user_to_the_admins_tenant_with_the_chosen_password(ada_client, tenant):
    response = ada_client.post(
        URL, {"username": "erin", "role": Role.VIEWER, "password": "a-long-enough-secret-9"}
    )

    assert response.status_code == 302
    assert response.url == reverse("devices:manage")
    erin = User.objects.get(username="erin")
    assert (erin.tenant, erin.role, erin.is_staff) == (tenant, Role.VIEWER, False)
    assert erin.check_password("a-long-enough-secret-9")


def test_it_shows_a_generated_password_once_and_never_caches_the_page(ada_client):
    response = ada_client.post(URL, {"username": "erin", "role": Role.MEMBER, "password": ""})

    assert response.status_code == 200
    password = response.context["secret"]
    assert User.objects.get(username="erin").check_password(password)
    assert password in response.content.decode()
    assert "no-store" in response.headers["Cache-Control"]
    assert password not in ada_client.get(reverse("devices:manage")).content.decode()


def test_it_refuses_a_username_taken_in_another_tenant(ada_client, charlie):
    response = ada_client.post(URL, {"username": "charlie", "role": Role.MEMBER})

    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        errors.USER_EXISTS.format(username="charlie")
    ]
    assert User.objects.get(username="charlie").tenant.slug == "globex"


def test_it_refuses_a_weak_password_and_stores_nothing(ada_client):
    response = ada_client.post(URL, {"username": "erin", "role": Role.MEMBER, "password": "123"})

    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not User.objects.filter(username="erin").exists()


def test_it_refuses_an_unknown_role(ada_client):
    response = ada_client.post(URL, {"username": "erin", "role": "owner"})

    assert response.context["form"].errors["role"]
    assert not User.objects.filter(username="erin").exists()


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_members_and_viewers_get_403(client, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"username": "erin", "role": Role.ADMIN}).status_code == 403
    assert not User.objects.filter(username="erin").exists()


def test_a_logged_out_visitor_is_sent_to_log_in(client, db):
    response = client.post(URL, {"username": "erin", "role": Role.ADMIN})

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not User.objects.filter(username="erin").exists()


def test_the_form_needs_the_csrf_token(ada):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ada)

    assert browser.post(URL, {"username": "erin", "role": Role.MEMBER}).status_code == 403
    assert not User.objects.filter(username="erin").exists()
