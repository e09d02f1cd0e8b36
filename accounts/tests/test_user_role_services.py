"""user_role_set and user_deactivate act only on other users of the actor's tenant."""

from __future__ import annotations

import pytest

from accounts import errors
from accounts.models import Role
from accounts.services import user_deactivate, user_role_set
from telemetry.errors import BadInput, Forbidden, NotFound


def test_it_sets_the_role_in_the_database(ada, bob):
    user_role_set(actor=ada, user=bob, role=Role.MEMBER)

    bob.refresh_from_db()
    assert bob.role == Role.MEMBER


@pytest.mark.parametrize("service", [user_deactivate, user_role_set])
def test_it_refuses_a_user_of_another_tenant_even_if_handed_one(service, ada, charlie):
    extra = {"role": Role.VIEWER} if service is user_role_set else {}
    with pytest.raises(NotFound, match=errors.USER_NOT_FOUND):
        service(actor=ada, user=charlie, **extra)

    charlie.refresh_from_db()
    assert (charlie.role, charlie.is_active) == (Role.MEMBER, True)


@pytest.mark.parametrize("service", [user_deactivate, user_role_set])
def test_nobody_acts_on_themselves_so_a_tenant_keeps_an_admin(service, ada):
    extra = {"role": Role.MEMBER} if service is user_role_set else {}
    with pytest.raises(Forbidden):
        service(actor=ada, user=ada, **extra)

    ada.refresh_from_db()
    assert (ada.role, ada.is_active) == (Role.ADMIN, True)


def test_it_refuses_an_unknown_role(ada, alice):
    with pytest.raises(BadInput):
        user_role_set(actor=ada, user=alice, role="owner")


def test_deactivating_twice_is_harmless(ada, alice):
    user_deactivate(actor=ada, user=alice)
    user_deactivate(actor=ada, user=alice)

    alice.refresh_from_db()
    assert alice.is_active is False
