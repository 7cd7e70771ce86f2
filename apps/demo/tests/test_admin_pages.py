"""Every model registered in the admin opens for a superuser; the stock ledger is read-only."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.inventory.models import StockLevel, StockMove

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


@pytest.mark.parametrize(
    "model", [model for model, _ in REGISTERED], ids=[m._meta.label for m, _ in REGISTERED]
)
def test_the_changelist_opens_for_a_superuser(superuser_client, model):
    assert superuser_client.get(admin_url(model, "changelist")).status_code == 200


@pytest.mark.parametrize(
    "model", [model for model, _ in REGISTERED], ids=[m._meta.label for m, _ in REGISTERED]
)
def test_the_add_page_opens_for_a_superuser_where_adding_is_allowed(superuser_client, model):
    response = superuser_client.get(admin_url(model, "add"))
    can_add = admin.site._registry[model].has_add_permission(response.wsgi_request)
    assert response.status_code == (200 if can_add else 403)


@pytest.mark.parametrize("model", [StockMove, StockLevel])
def test_stock_rows_cannot_be_added_changed_or_deleted_in_admin(rf, model):
    request = rf.get("/")
    request.user = get_user_model().objects.get(username="admin")
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_stock_move_opens_read_only(superuser_client):
    move = StockMove.objects.first()
    response = superuser_client.get(admin_url(StockMove, "change", move.pk))
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert b"deletelink" not in response.content


def test_a_stock_move_cannot_be_changed_or_deleted_through_admin(superuser_client):
    move = StockMove.objects.first()
    qty = move.qty
    change = superuser_client.post(admin_url(StockMove, "change", move.pk), {"qty": "999"})
    delete = superuser_client.post(admin_url(StockMove, "delete", move.pk), {"post": "yes"})
    assert (change.status_code, delete.status_code) == (403, 403)
    move.refresh_from_db()
    assert move.qty == qty


def test_item_search_finds_an_item_by_its_chinese_alias(superuser_client):
    response = superuser_client.get(
        admin_url(StockLevel.item.field.related_model, "changelist"), {"q": "保护片"}
    )
    assert "PW-D37-T7" in response.content.decode()


def test_a_sales_order_page_shows_its_lines_inline(superuser_client):
    from apps.sales.models import SalesOrder

    order = SalesOrder.objects.get(number="SO-2026-0001")
    response = superuser_client.get(admin_url(SalesOrder, "change", order.pk))
    assert response.status_code == 200
    assert "PW-D37-T7" in response.content.decode()
