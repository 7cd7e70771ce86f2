"""Create or update the demo company from apps.demo.data and apps.demo.roles.

Idempotent: every row is found by its natural key and updated in place, and stock is brought
to its target by posting only the difference, so a second run changes nothing.
"""

from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import F, Sum

from apps.inventory.models import Item, ReorderRule, SerialNumber, StockLevel, Warehouse
from apps.inventory.services import post_stock_move, reserve_stock
from apps.production.models import WorkOrder, WorkOrderOperation
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier
from apps.reporting.models import AREAS, bump
from apps.sales.models import Customer, SalesOrder, SalesOrderLine
from apps.service.models import ServiceTicket

from . import data
from .history import seed_history
from .roles import DEMO_OPERATORS, DEMO_USERS, OPERATORS_GROUP, ROLE_PERMISSIONS, demo_password

CENT = Decimal("0.01")
OPENING_VOUCHER = "DEMO-OPENING"
COUNTED_APPS = ("auth", "inventory", "sales", "purchasing", "production", "service")


def seed() -> list[str]:
    """Seed everything in one transaction; return the usernames created by this run."""
    with transaction.atomic():
        created_users = seed_users()
        users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_USERS)}
        warehouses = seed_warehouses(users)
        items = seed_items()
        seed_reorder_rules(items, warehouses)
        customers = seed_customers(users)
        orders = seed_sales_orders(customers, items, users)
        seed_purchase_orders(items, warehouses)
        seed_default_suppliers(items)
        serials = seed_serials(items, warehouses, customers, orders)
        seed_work_orders(items, orders)
        seed_service_tickets(customers, serials, items, users)
        seed_stock(items, warehouses)
        sync_ordered_qty()
        seed_history(items, warehouses)
        # The seed writes rows directly, not through the services: cached reports are stale.
        for area in AREAS:
            bump(area)
    return created_users


def row_counts() -> dict[str, int]:
    """Rows per model of the ERP apps and auth, keyed "app_label.ModelName"."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in COUNTED_APPS
    }


def permissions_for(labels) -> list[Permission]:
    """Permission rows for "app_label.codename" labels; fails loudly on a typo."""
    found = []
    for label in labels:
        app_label, codename = label.split(".", 1)
        try:
            found.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        except Permission.DoesNotExist as exc:
            raise LookupError(f"Unknown permission {label!r}; run migrate first?") from exc
    return found


def seed_users() -> list[str]:
    groups = {}
    for name, labels in ROLE_PERMISSIONS.items():
        groups[name], _ = Group.objects.get_or_create(name=name)
        groups[name].permissions.set(permissions_for(labels))
    created = []
    for username, (group_name, superuser, first_name, last_name) in DEMO_USERS.items():
        user, was_created = get_user_model().objects.update_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@demo.better-laser.example",
                "is_active": True,
                "is_staff": superuser,
                "is_superuser": superuser,
            },
        )
        if was_created:
            # Only on creation: a password someone changed is not reset by a re-run.
            user.set_password(demo_password(username))
            user.save(update_fields=["password"])
            created.append(username)
        user.groups.set([groups[group_name]] if group_name else [])
        if group_name is None and not superuser:
            user.user_permissions.clear()
    operators, _ = Group.objects.get_or_create(name=OPERATORS_GROUP)
    operators.user_set.set(get_user_model().objects.filter(username__in=DEMO_OPERATORS))
    return created


def seed_warehouses(users) -> dict[str, Warehouse]:
    warehouses = {}
    for code, (name, name_zh, kind, address, manager) in data.WAREHOUSES.items():
        warehouses[code], _ = Warehouse.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "warehouse_type": kind,
                "address": address,
                "manager": users.get(manager),
                "active": True,
            },
        )
    return warehouses


def seed_items() -> dict[str, Item]:
    items = {}
    for row in data.ITEMS:
        fields = dict(zip(data.ITEM_FIELDS, row, strict=True))
        sku = fields.pop("sku")
        fields["list_price"] = Decimal(fields["list_price"])
        fields["standard_cost"] = Decimal(fields["standard_cost"])
        fields["is_stock_item"] = fields["item_type"] != Item.ItemType.SERVICE
        fields["model"] = sku
        fields["active"] = True
        items[sku], _ = Item.objects.update_or_create(sku=sku, defaults=fields)
    return items


def seed_reorder_rules(items, warehouses) -> None:
    for sku, code, level, qty, request_type in data.REORDER_RULES:
        ReorderRule.objects.update_or_create(
            item=items[sku],
            warehouse=warehouses[code],
            defaults={
                "reorder_level": Decimal(level),
                "reorder_qty": Decimal(qty),
                "request_type": request_type,
            },
        )


def seed_customers(users) -> dict[str, Customer]:
    customers = {}
    for code, row in {**data.CUSTOMERS, **data.HISTORY_CUSTOMERS}.items():
        name, name_zh, territory, owner, credit_limit, contact_name, contact_phone = row
        customers[code], _ = Customer.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "territory": territory,
                "owner_salesperson": users[owner],
                "credit_limit": Decimal(credit_limit),
                "contact_name": contact_name,
                "contact_phone": contact_phone,
                "active": True,
            },
        )
    return customers


def seed_sales_orders(customers, items, users) -> dict[str, SalesOrder]:
    orders = {}
    for number, row in data.SALES_ORDERS.items():
        (doc_type, customer, salesperson, status, order_date, promised_date,
         per_delivered, per_billed, lines, note) = row  # fmt: skip
        is_quote = doc_type == SalesOrder.DocType.QUOTE
        order, _ = SalesOrder.objects.update_or_create(
            number=number,
            defaults={
                "doc_type": doc_type,
                "customer": customers[customer],
                "salesperson": users[salesperson],
                "status": status,
                "order_date": order_date,
                "promised_date": promised_date,
                "valid_until": order_date + timedelta(days=data.QUOTE_VALID_DAYS)
                if is_quote
                else None,
                "per_delivered": Decimal(per_delivered),
                "per_billed": Decimal(per_billed),
                "note": note,
            },
        )
        total = Decimal("0")
        for sku, qty, discount_pct in lines:
            item, qty = items[sku], Decimal(qty)
            amount = (qty * item.list_price * (100 - Decimal(discount_pct)) / 100).quantize(CENT)
            SalesOrderLine.objects.update_or_create(
                order=order,
                item=item,
                defaults={
                    "qty": qty,
                    "uom": item.stock_uom,
                    "rate": item.list_price,
                    "discount_pct": Decimal(discount_pct),
                    "amount": amount,
                    "delivered_qty": qty if per_delivered == 100 else Decimal("0"),
                    "billed_qty": qty if per_billed == 100 else Decimal("0"),
                },
            )
            total += amount
        order.lines.exclude(item__sku__in=[sku for sku, _, _ in lines]).delete()
        order.grand_total = total
        order.save(update_fields=["grand_total"])
        orders[number] = order
    return orders


def seed_purchase_orders(items, warehouses) -> None:
    suppliers = {}
    for code, (name, name_zh, contact_name, contact_phone) in data.SUPPLIERS.items():
        suppliers[code], _ = Supplier.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "contact_name": contact_name,
                "contact_phone": contact_phone,
                "active": True,
            },
        )
    for number, (
        supplier,
        status,
        order_date,
        expected_date,
        lines,
    ) in data.PURCHASE_ORDERS.items():
        order, _ = PurchaseOrder.objects.update_or_create(
            number=number,
            defaults={
                "supplier": suppliers[supplier],
                "status": status,
                "order_date": order_date,
                "expected_date": expected_date,
            },
        )
        keep, total = [], Decimal("0")
        for sku, code, qty, received_qty, rate in lines:
            line, _ = PurchaseOrderLine.objects.update_or_create(
                order=order,
                item=items[sku],
                warehouse=warehouses[code],
                defaults={
                    "qty": Decimal(qty),
                    "received_qty": Decimal(received_qty),
                    "rate": Decimal(rate),
                },
            )
            keep.append(line.pk)
            total += Decimal(qty) * Decimal(rate)
        order.lines.exclude(pk__in=keep).delete()
        order.grand_total = total
        order.save(update_fields=["grand_total"])


def seed_default_suppliers(items) -> None:
    suppliers = Supplier.objects.in_bulk(list(data.SUPPLIERS), field_name="code")
    for sku, item in items.items():
        supplier = suppliers.get(data.DEFAULT_SUPPLIERS.get(sku))
        if item.default_supplier_id != (supplier.pk if supplier else None):
            item.default_supplier = supplier
            item.save(update_fields=["default_supplier"])


def seed_serials(items, warehouses, customers, orders) -> dict[str, SerialNumber]:
    serials = {}
    for serial, row in data.SERIALS.items():
        (sku, status, warehouse, customer, order, delivery_date, install_date,
         warranty_start, warranty_end, amc_end, _parent) = row  # fmt: skip
        serials[serial], _ = SerialNumber.objects.update_or_create(
            serial=serial,
            defaults={
                "item": items[sku],
                "status": status,
                "warehouse": warehouses.get(warehouse),
                "customer": customers.get(customer),
                "sales_order": orders.get(order),
                "delivery_date": delivery_date,
                "install_date": install_date,
                "warranty_start": warranty_start,
                "warranty_end": warranty_end,
                "amc_end": amc_end,
            },
        )
    # Parents second: a component may be listed before the machine it sits in.
    for serial, row in data.SERIALS.items():
        parent = serials.get(row[-1])
        if serials[serial].parent_serial != parent:
            serials[serial].parent_serial = parent
            serials[serial].save(update_fields=["parent_serial"])
    return serials


def seed_work_orders(items, orders) -> None:
    for number, row in data.WORK_ORDERS.items():
        (sku, qty, produced_qty, status, order, serial, planned_start, planned_end,
         actual_start, actual_end, operations) = row  # fmt: skip
        work_order, _ = WorkOrder.objects.update_or_create(
            number=number,
            defaults={
                "item": items[sku],
                "qty": Decimal(qty),
                "produced_qty": Decimal(produced_qty),
                "status": status,
                "sales_order": orders.get(order),
                "serial_no": serial,
                "planned_start": planned_start,
                "planned_end": planned_end,
                "actual_start": actual_start,
                "actual_end": actual_end,
            },
        )
        for seq, (name, name_zh) in data.OPERATIONS.items():
            op_status, done_at = operations.get(seq, (WorkOrderOperation.Status.PENDING, None))
            WorkOrderOperation.objects.update_or_create(
                work_order=work_order,
                seq=seq,
                defaults={
                    "name": name,
                    "name_zh": name_zh,
                    "status": op_status,
                    "done_at": done_at,
                },
            )
        work_order.operations.exclude(seq__in=data.OPERATIONS).delete()


def seed_service_tickets(customers, serials, items, users) -> None:
    for number, row in data.SERVICE_TICKETS.items():
        (customer, serial, sku, category, priority, status, complaint, warranty_status,
         engineer, channel, resolution, created_at, resolved_at) = row  # fmt: skip
        machine = serials.get(serial)
        ServiceTicket.objects.update_or_create(
            number=number,
            defaults={
                "customer": customers[customer],
                "serial": machine,
                "item": items[sku] if sku else (machine.item if machine else None),
                "category": category,
                "priority": priority,
                "status": status,
                "complaint": complaint,
                "warranty_status_at_open": warranty_status,
                "assigned_engineer": users.get(engineer),
                "created_by": users["svc1"],
                "channel": channel,
                "resolution": resolution,
                "created_at": created_at,
                "resolved_at": resolved_at,
            },
        )


def seed_stock(items, warehouses) -> None:
    """Bring actual and reserved quantities to their targets through the stock service."""
    for sku, code, actual, reserved in data.STOCK:
        item, warehouse = items[sku], warehouses[code]
        actual, reserved = Decimal(actual), Decimal(reserved)
        level = StockLevel.objects.filter(item=item, warehouse=warehouse).first()
        if level is None:
            # A zero row too: the item is stocked here, there is just none right now.
            level = StockLevel.objects.create(item=item, warehouse=warehouse)
        if level.reserved_qty > reserved:
            reserve_stock(item=item, warehouse=warehouse, qty=reserved - level.reserved_qty)
        if level.actual_qty != actual:
            post_stock_move(
                item=item,
                warehouse=warehouse,
                qty=actual - level.actual_qty,
                voucher_type="adjustment",
                voucher_id=OPENING_VOUCHER,
                note="Demo opening balance",
            )
        if level.reserved_qty < reserved:
            reserve_stock(item=item, warehouse=warehouse, qty=reserved - level.reserved_qty)


def sync_ordered_qty() -> None:
    """Set StockLevel.ordered_qty to the open quantity on purchase orders being received.

    No stock service maintains ordered_qty yet; it is derived from purchase orders, so the
    seed recomputes it for every row.
    """
    open_lines = (
        PurchaseOrderLine.objects.filter(
            order__status__in=[
                PurchaseOrder.Status.TO_RECEIVE_AND_BILL,
                PurchaseOrder.Status.TO_RECEIVE,
            ]
        )
        .values("item_id", "warehouse_id")
        .annotate(open_qty=Sum(F("qty") - F("received_qty")))
    )
    ordered = {(row["item_id"], row["warehouse_id"]): row["open_qty"] for row in open_lines}
    for key in ordered:
        StockLevel.objects.get_or_create(item_id=key[0], warehouse_id=key[1])
    for level in StockLevel.objects.all():
        target = ordered.get((level.item_id, level.warehouse_id), Decimal("0"))
        if level.ordered_qty != target:
            level.ordered_qty = target
            level.save(update_fields=["ordered_qty", "updated_at"])
