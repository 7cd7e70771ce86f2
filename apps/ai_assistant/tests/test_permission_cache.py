"""Users' permissions kept in the shared cache (permission_cache.py): read once, and read again
after any change of groups or permissions, in every process."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from apps.ai_assistant import permission_cache

User = get_user_model()


@pytest.fixture
def shared_cache(settings, private_redis):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "KEY_PREFIX": "permission-cache-test",
        }
    }
    __import__("redis").Redis.from_url(private_redis.url).flushall()
    return settings


def fresh(username: str):
    """The user as a new turn loads it (a new object, nothing cached on it)."""
    return User.objects.get(username=username)


def test_a_users_permissions_are_read_once_and_then_kept(
    shared_cache, demo, django_assert_num_queries
):
    assert fresh("wh1").has_perm("inventory.view_stocklevel")
    wh1 = fresh("wh1")

    with django_assert_num_queries(0):
        assert wh1.has_perm("inventory.view_stocklevel")
        assert not wh1.has_perm("sales.view_customer")


def test_a_permission_given_to_a_group_is_seen_at_the_next_check(shared_cache, worker_db):
    assert not fresh("wh1").has_perm("sales.view_customer")

    Group.objects.get(name="Warehouse").permissions.add(
        Permission.objects.get(codename="view_customer")
    )

    assert fresh("wh1").has_perm("sales.view_customer")


def test_a_user_taken_out_of_a_group_loses_its_permissions_at_once(shared_cache, worker_db):
    assert fresh("sales1").has_perm("sales.view_salesorder")

    fresh("sales1").groups.clear()

    assert not fresh("sales1").has_perm("sales.view_salesorder")


def test_a_permission_given_to_the_user_itself_is_seen(shared_cache, worker_db):
    assert not fresh("guest1").has_perm("inventory.view_item")

    fresh("guest1").user_permissions.add(Permission.objects.get(codename="view_item"))

    assert fresh("guest1").has_perm("inventory.view_item")


def test_a_deleted_group_takes_its_permissions_with_it(shared_cache, worker_db):
    assert fresh("svc1").has_perm("service.add_serviceticket")

    Group.objects.get(name="Service engineer").delete()

    assert not fresh("svc1").has_perm("service.add_serviceticket")


def test_an_inactive_user_has_no_permissions_whatever_is_kept(shared_cache, demo):
    assert fresh("wh1").has_perm("inventory.view_stocklevel")

    User.objects.filter(username="wh1").update(is_active=False)  # no signal: read from the row

    assert not fresh("wh1").has_perm("inventory.view_stocklevel")


def test_without_a_shared_cache_every_user_object_reads_the_database(
    settings, demo, django_assert_num_queries
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert fresh("wh1").has_perm("inventory.view_stocklevel")
    wh1 = fresh("wh1")

    with django_assert_num_queries(2):  # the user's own and its groups' permissions
        assert wh1.has_perm("inventory.view_stocklevel")


def test_when_the_cache_is_down_the_database_still_answers(settings, demo):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }

    assert fresh("wh1").has_perm("inventory.view_stocklevel")
    assert not fresh("wh1").has_perm("sales.view_customer")
    assert permission_cache.cache_is_shared()
