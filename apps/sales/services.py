"""Sales writes: draft quotes priced from the price list, numbered QT-YYYY-NNNN."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.inventory.models import Item
from apps.reporting.models import SALES, bump
from better_laser_erp.numbering import create_numbered

from .models import Customer, SalesOrder, SalesOrderLine

CENT = Decimal("0.01")


class QuoteError(ValueError):
    """The quote cannot be made as asked; the message says why and is safe to show."""


@dataclass(frozen=True)
class PricedLine:
    item: Item
    qty: Decimal
    rate: Decimal
    amount: Decimal


def price_lines(lines: list[tuple[Item, Decimal]]) -> tuple[list[PricedLine], str]:
    """Each (item, qty) at the item's list price, and the one currency they share."""
    priced = []
    for item, qty in lines:
        if item.list_price <= 0:
            raise QuoteError(f"{item.sku} has no list price; it cannot be quoted.")
        amount = (qty * item.list_price).quantize(CENT)
        priced.append(PricedLine(item, qty, item.list_price, amount))
    currencies = {line.item.currency for line in priced}
    if len(currencies) > 1:
        raise QuoteError("The items are priced in different currencies; quote them separately.")
    return priced, currencies.pop()


def create_quote(
    *, customer: Customer, lines: list[PricedLine], currency: str, salesperson: Any, note: str = ""
) -> SalesOrder:
    """A draft quote with these lines, its total summed from them, under the next QT number."""
    with transaction.atomic():
        bump(SALES)
        quote = create_numbered(
            SalesOrder,
            "QT",
            doc_type=SalesOrder.DocType.QUOTE,
            status=SalesOrder.Status.DRAFT,
            customer=customer,
            salesperson=salesperson,
            currency=currency,
            note=note,
        )
        SalesOrderLine.objects.bulk_create(
            SalesOrderLine(
                order=quote,
                item=line.item,
                qty=line.qty,
                uom=line.item.stock_uom,
                rate=line.rate,
                amount=line.amount,
            )
            for line in lines
        )
        quote.grand_total = sum((line.amount for line in lines), Decimal("0"))
        quote.save(update_fields=["grand_total"])
    return quote
