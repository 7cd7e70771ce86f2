"""The strings that name ERP records of the demo company, for tests that prove a reply names
none it should not."""

from __future__ import annotations

from apps.inventory.models import Item, SerialNumber
from apps.production.models import WorkOrder
from apps.purchasing.models import PurchaseOrder, Supplier
from apps.sales.models import Customer, SalesOrder
from apps.service.models import ServiceTicket


def record_tokens() -> set[str]:
    """Every SKU, serial, document number and customer/supplier code and name (≥ 3 chars)."""
    tokens: set[str] = set()
    tokens.update(Item.objects.values_list("sku", flat=True))
    tokens.update(SerialNumber.objects.values_list("serial", flat=True))
    for model in (SalesOrder, PurchaseOrder, WorkOrder, ServiceTicket):
        tokens.update(model.objects.values_list("number", flat=True))
    for model in (Customer, Supplier):
        for code, name_zh, name in model.objects.values_list("code", "name_zh", "name"):
            tokens.update(value for value in (code, name_zh, name) if value)
    return {token for token in tokens if len(token) >= 3}


def tokens_in(text: str, tokens: set[str]) -> set[str]:
    return {token for token in tokens if token in text}
