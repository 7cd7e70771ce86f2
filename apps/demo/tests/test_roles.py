"""The demo groups have exactly the permissions of the role map; guest1 has none."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.demo.roles import DEMO_USERS, ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.mark.parametrize("group_name", ROLE_PERMISSIONS)
def test_each_demo_group_has_exactly_its_role_permissions(group_name):
    group = Group.objects.get(name=group_name)
    granted = {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert granted == set(ROLE_PERMISSIONS[group_name])


@pytest.mark.parametrize(
    "username", [name for name, (group, _, _, _) in DEMO_USERS.items() if group]
)
def test_each_demo_user_has_exactly_the_permissions_of_its_role(username):
    group_name = DEMO_USERS[username][0]
    assert [g.name for g in user(username).groups.all()] == [group_name]
    assert user(username).get_all_permissions() == set(ROLE_PERMISSIONS[group_name])


def test_guest1_has_no_groups_and_no_permissions():
    guest = user("guest1")
    assert guest.is_active
    assert not guest.groups.exists()
    assert guest.get_all_permissions() == set()


def test_only_admin_is_staff_and_superuser():
    staff = set(get_user_model().objects.filter(is_staff=True).values_list("username", flat=True))
    superusers = set(
        get_user_model().objects.filter(is_superuser=True).values_list("username", flat=True)
    )
    assert staff == superusers == {"admin"}


def test_every_demo_user_can_log_in_with_the_documented_password():
    for username in DEMO_USERS:
        assert user(username).check_password(f"demo-{username}-2026"), username


def test_sales_may_reserve_stock_and_create_quotes_but_not_change_orders():
    sales1 = user("sales1")
    assert sales1.has_perms(["inventory.reserve_stock", "sales.create_quote"])
    assert not sales1.has_perm("sales.change_salesorder")
