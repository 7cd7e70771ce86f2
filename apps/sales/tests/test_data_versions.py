"""Sales writes raise the sales data version."""

from decimal import Decimal

import pytest

from apps.inventory.models import Item
from apps.reporting.models import AREAS, versions
from apps.reporting.tests.versions import assert_raised_only
from apps.sales.models import Customer
from apps.sales.services import create_quote, price_lines

pytestmark = pytest.mark.django_db


def test_creating_a_quote_bumps_only_the_sales_version():
    lines, currency = price_lines([(Item.objects.get(sku="PW-D37-T7"), Decimal("10"))])
    before = versions(AREAS)
    create_quote(
        customer=Customer.objects.get(code="C001"),
        lines=lines,
        currency=currency,
        salesperson=None,
    )
    assert_raised_only(before, "sales")
