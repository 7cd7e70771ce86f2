"""Small builders for inventory rows that tests own (kept apart from the demo data)."""

from apps.inventory.models import Item, Warehouse


def make_item(sku="TEST-ITEM", **fields) -> Item:
    fields.setdefault("name", f"Test item {sku}")
    fields.setdefault("item_type", Item.ItemType.CONSUMABLE)
    return Item.objects.create(sku=sku, **fields)


def make_warehouse(code="test-wh", **fields) -> Warehouse:
    fields.setdefault("name", f"Test warehouse {code}")
    fields.setdefault("warehouse_type", Warehouse.WarehouseType.MAIN)
    return Warehouse.objects.create(code=code, **fields)
