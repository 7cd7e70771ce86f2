"""The only way stock quantities change: post a move to the ledger, or reserve stock.

Each call runs in one transaction and locks the StockLevel row, so concurrent posts to the
same item and warehouse queue up instead of losing an update. Each also raises the inventory
data version (apps.reporting.models.bump) first, in the same transaction.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction

from apps.reporting.models import INVENTORY, bump

from .models import Item, StockLevel, StockMove, Warehouse


class StockError(ValueError):
    """A stock change that would break the ledger's rules; the message says why."""


def _locked_level(item: Item, warehouse: Warehouse) -> StockLevel:
    """The item's StockLevel row in the warehouse, created if missing, locked for update."""
    try:
        with transaction.atomic():
            StockLevel.objects.get_or_create(item=item, warehouse=warehouse)
    except IntegrityError:
        pass  # another transaction created it first; the lock below waits for it
    return StockLevel.objects.select_for_update().get(item=item, warehouse=warehouse)


def post_stock_move(
    *,
    item: Item,
    warehouse: Warehouse,
    qty: Decimal | int | str,
    voucher_type: str,
    voucher_id: str = "",
    user=None,
    serial_no: str = "",
    unit_cost: Decimal | None = None,
    note: str = "",
) -> StockMove:
    """Append a StockMove (qty > 0 in, < 0 out) and update the StockLevel it changes."""
    qty = Decimal(str(qty))
    if qty == 0:
        raise StockError("A stock move needs a non-zero quantity.")
    if not item.is_stock_item:
        raise StockError(f"{item.sku} is not a stock item.")
    with transaction.atomic():
        bump(INVENTORY)
        level = _locked_level(item, warehouse)
        new_actual = level.actual_qty + qty
        committed = level.reserved_qty + level.reserved_for_production
        if new_actual < committed:
            raise StockError(
                f"Not enough stock of {item.sku} in {warehouse.code}: "
                f"{level.available_qty} available, {-qty} requested."
            )
        level.actual_qty = new_actual
        level.save(update_fields=["actual_qty", "updated_at"])
        return StockMove.objects.create(
            item=item,
            warehouse=warehouse,
            qty=qty,
            qty_after=new_actual,
            voucher_type=voucher_type,
            voucher_id=voucher_id,
            user=user,
            serial_no=serial_no,
            unit_cost=unit_cost,
            note=note,
        )


def reserve_stock(*, item: Item, warehouse: Warehouse, qty: Decimal | int | str) -> StockLevel:
    """Reserve available stock (qty > 0) or release a reservation (qty < 0)."""
    qty = Decimal(str(qty))
    if qty == 0:
        raise StockError("A reservation needs a non-zero quantity.")
    with transaction.atomic():
        bump(INVENTORY)
        level = _locked_level(item, warehouse)
        if qty > level.available_qty:
            raise StockError(
                f"Not enough stock of {item.sku} in {warehouse.code} to reserve {qty}: "
                f"{level.available_qty} available."
            )
        if level.reserved_qty + qty < 0:
            raise StockError(
                f"Cannot release {-qty} of {item.sku} in {warehouse.code}: "
                f"only {level.reserved_qty} reserved."
            )
        level.reserved_qty += qty
        level.save(update_fields=["reserved_qty", "updated_at"])
        return level
