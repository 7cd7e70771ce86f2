"""The demo company's roles: which permissions each group has, and who is in it.

One place for the role map, so seed_demo, the tests and later code agree on it.
"""

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "Sales": (
        "inventory.view_item",
        "inventory.view_warehouse",
        "inventory.view_stocklevel",
        "inventory.view_serialnumber",
        "inventory.reserve_stock",
        "sales.view_customer",
        "sales.view_salesorder",
        "sales.view_salesorderline",
        "sales.add_salesorder",
        "sales.create_quote",
        "production.view_workorder",
        "service.view_serviceticket",
    ),
    "Warehouse": (
        "inventory.view_item",
        "inventory.view_warehouse",
        "inventory.view_stocklevel",
        "inventory.view_stockmove",
        "inventory.view_reorderrule",
        "inventory.view_serialnumber",
        "inventory.reserve_stock",
        "purchasing.view_purchaseorder",
        "purchasing.view_purchaseorderline",
        "purchasing.view_supplier",
        # The warehouse buys too: draft purchase orders from a reorder plan (approved later).
        "purchasing.add_purchaseorder",
    ),
    "Service engineer": (
        "inventory.view_item",
        "inventory.view_warehouse",
        "inventory.view_stocklevel",
        "inventory.view_serialnumber",
        "sales.view_customer",
        "service.view_serviceticket",
        "service.add_serviceticket",
        "service.change_serviceticket",
    ),
    "Production": (
        "inventory.view_item",
        "inventory.view_warehouse",
        "inventory.view_stocklevel",
        "inventory.view_serialnumber",
        "production.view_workorder",
        "production.view_workorderoperation",
        "production.change_workorderoperation",
        "purchasing.view_purchaseorder",
    ),
}

# username → (group or None, superuser, first name, last name). Only admin is staff.
DEMO_USERS: dict[str, tuple[str | None, bool, str, str]] = {
    "admin": (None, True, "管理员", ""),
    "sales1": ("Sales", False, "磊", "王"),
    "sales2": ("Sales", False, "婷", "陈"),
    "wh1": ("Warehouse", False, "强", "李"),
    "svc1": ("Service engineer", False, "伟", "张"),
    "prod1": ("Production", False, "军", "刘"),
    "guest1": (None, False, "访客", ""),
}


# Told of backlog and failure alerts on their bound chat accounts (apps/operations/alerts.py).
OPERATORS_GROUP = "Operators"
DEMO_OPERATORS = ("admin",)


def demo_password(username: str) -> str:
    """The fixed development password of a demo user, set when the user is created."""
    return f"demo-{username}-2026"
