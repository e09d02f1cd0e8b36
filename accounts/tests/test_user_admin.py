"""Operators add users of a tenant, with a role, from the admin's add form."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Role, User
from testsupport import PASSWORD


def test_a_superuser_adds_a_tenant_admin(admin_client, tenant):
    form = {
        "username": "dora",
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "tenant": tenant.pk,
        "role": Role.ADMIN,
    }

    response = admin_client.post(reverse("admin:accounts_user_add"), form)

    assert response.status_code == 302
    dora = User.objects.get(username="dora")
    assert (dora.tenant, dora.role, dora.is_staff) == (tenant, Role.ADMIN, False)
    assert dora.check_password(PASSWORD)


def test_the_user_list_shows_tenant_and_role_without_a_query_per_user(
    admin_client, alice, bob, charlie, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:accounts_user_changelist"))

    rows = {
        (user.username, user.tenant and user.tenant.slug, user.role)
        for user in response.context["cl"].result_list
    }
    assert ("charlie", "globex", Role.MEMBER) in rows and ("bob", "acme", Role.VIEWER) in rows
