"""Purchasing tool: purchase order status by number, item or supplier."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from apps.purchasing.models import PurchaseOrder, Supplier

from ._reply import iso, label, listing, max_rows, pick
from .lookup import resolve_item, spellings
from .registry import Tool, ToolContext, ToolInputError, number, register

PO_LABELS_EN = dict(PurchaseOrder.Status.choices)


class PurchaseOrderStatusParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    po: str | None = Field(
        None, max_length=30, description="Purchase order number, e.g. 'PO-2026-0001'."
    )
    item: str | None = Field(
        None,
        max_length=100,
        description="Item SKU, name or alias; lists open purchase orders for it.",
    )
    supplier: str | None = Field(
        None, max_length=100, description="Supplier code or name; lists its open orders."
    )


def resolve_supplier(text: str) -> Supplier:
    """The supplier named by code or (part of) its name."""
    needle = text.strip()
    suppliers = Supplier.objects.filter(active=True)
    by_code = suppliers.filter(code__in=spellings(needle)).first()
    if by_code:
        return by_code
    matches = list(suppliers.filter(Q(name_zh__icontains=needle) | Q(name__icontains=needle)))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ToolInputError(
            f"“{text}” matches several suppliers.", candidates=[str(s) for s in matches[:8]]
        )
    raise ToolInputError(
        f"No supplier matches “{text}”.", candidates=[str(s) for s in suppliers[:8]]
    )


@register
class PurchaseOrderStatus(Tool):
    name = "purchase_order_status"
    description_en = (
        "Status of purchase orders by number, item or supplier: expected date, ordered and "
        "received qty per line. Without arguments lists open purchase orders."
    )
    description_zh = "按采购单号、物料或供应商查询采购订单：预计到货日期、每行订购和已收数量。"
    Params = PurchaseOrderStatusParams
    permission = "purchasing.view_purchaseorder"
    topic = {"zh": "查询采购单", "en": "see purchase orders"}
    examples = {
        "zh": ["PO-2026-0001 到货了吗", "保护镜的采购单"],
        "en": ["status of PO-2026-0001"],
    }
    slots = {"po": "purchase_order", "item": "item", "supplier": "supplier"}
    help_rank = 8

    def run(self, ctx: ToolContext, params: PurchaseOrderStatusParams) -> dict[str, Any]:
        orders = PurchaseOrder.objects.select_related("supplier")
        item = None
        if params.po:
            orders = orders.filter(number__in=spellings(params.po))
            if not orders.exists():
                raise ToolInputError(f"No purchase order “{params.po}” found.")
        else:
            orders = orders.filter(status__in=PurchaseOrder.OPEN_STATUSES)
        if params.item:
            item = resolve_item(params.item)
            orders = orders.filter(lines__item=item).distinct()
        if params.supplier:
            orders = orders.filter(supplier=resolve_supplier(params.supplier))
        orders = orders.order_by("expected_date", "number")
        count = orders.count()
        today = timezone.localdate()
        rows = []
        for order in orders.prefetch_related("lines__item", "lines__warehouse")[: max_rows()]:
            lines = [line for line in order.lines.all() if item is None or line.item_id == item.pk]
            rows.append(
                {
                    "number": order.number,
                    "supplier": str(order.supplier),
                    "supplier_name_en": f"{order.supplier.code} {order.supplier.name}",
                    "status": order.status,
                    "order_date": iso(order.order_date),
                    "expected_date": iso(order.expected_date),
                    "late": bool(
                        order.expected_date
                        and order.expected_date < today
                        and order.status in PurchaseOrder.OPEN_STATUSES
                    ),
                    "lines": [
                        {
                            "sku": line.item.sku,
                            "name": line.item.name,
                            "name_zh": line.item.name_zh,
                            "warehouse": line.warehouse.code,
                            "qty": number(line.qty),
                            "received_qty": number(line.received_qty),
                            "open_qty": number(line.open_qty),
                            "uom": line.item.stock_uom,
                        }
                        for line in lines
                    ],
                }
            )
        return {
            "po": params.po,
            "item": item.sku if item else None,
            "supplier": params.supplier,
            "count": count,
            "orders": rows,
        }

    def render(self, data: dict[str, Any], language: str) -> str:
        if not data["orders"]:
            return pick(language, "没有符合条件的采购订单。", "No matching purchase orders.")
        lines = []
        for order in data["orders"]:
            status = label(order["status"], language, PO_LABELS_EN)
            expected = order["expected_date"] or "-"
            supplier = order["supplier"] if language == "zh" else order["supplier_name_en"]
            late = pick(language, "，⚠ 已逾期", ", ⚠ overdue") if order["late"] else ""
            head = pick(
                language,
                f"- {order['number']} {supplier}：{status}，预计到货 {expected}{late}",
                f"- {order['number']} {supplier}: {status}, expected {expected}{late}",
            )
            parts = [
                pick(
                    language,
                    f"{line['sku']} 订购 {line['qty']} {line['uom']}，已收 {line['received_qty']}，"
                    f"到 {line['warehouse']}",
                    f"{line['sku']} ordered {line['qty']} {line['uom']}, "
                    f"received {line['received_qty']}, to {line['warehouse']}",
                )
                for line in order["lines"]
            ]
            lines.append(head + ("；" if language == "zh" else "; ") + "; ".join(parts))
        header = pick(language, "采购订单：", "Purchase orders:")
        return listing(header, lines, data["count"], language)

    def summarize(self, data: dict[str, Any]) -> str:
        return f"{data['count']} POs: " + ", ".join(
            f"{order['number']} {order['status']}" for order in data["orders"][:10]
        )
