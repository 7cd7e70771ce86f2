"""Sales reports: booked sales orders of a period, by customer, by product and order by order.

Which orders count: sales orders (doc_type order; quotes never) dated in [start, end] whose
status is one of BOOKED_STATUSES, i.e. approved and not cancelled. Left out, and counted in
the summary: drafts and orders pending approval (not yet a sale) and cancelled ones (no
longer one). Orders on hold stay in: they are sold, only held.

Totals: by customer and on the orders sheet, Σ SalesOrder.grand_total; by product,
Σ SalesOrderLine.amount of those orders' lines. Line amounts already carry their line
discounts, so the two agree unless an order's total holds more than its lines (an
order-level discount, freight or tax): the summary then gives the difference and the orders.

Read-only and set-based: five queries for any period (two grouped in SQL).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from apps.reporting.progress import Progress, no_progress
from apps.reporting.report import Column, Label, Report, ReportError, Sheet

from .models import SalesOrder, SalesOrderLine

ZERO = Decimal("0")
CENT = Decimal("0.01")
MILLI = Decimal("0.001")
SHARE = Decimal("0.0001")
PERCENT = Decimal("100")
S = SalesOrder.Status
BOOKED_STATUSES = (
    S.CONFIRMED,
    S.TO_DELIVER_AND_BILL,
    S.TO_DELIVER,
    S.TO_BILL,
    S.COMPLETED,
    S.CLOSED,
    S.ON_HOLD,
)
NOT_BOOKED_STATUSES = (S.DRAFT, S.PENDING_APPROVAL, S.CANCELLED)
STATUS_EN = dict(S.choices)
STATUS_ZH = {
    "draft": "草稿",
    "pending_approval": "待审批",
    "confirmed": "已确认",
    "to_deliver_and_bill": "待发货和开票",
    "to_deliver": "待发货",
    "to_bill": "待开票",
    "completed": "已完成",
    "on_hold": "已挂起",
    "cancelled": "已取消",
    "closed": "已关闭",
}
# The summary names at most this many orders whose total differs from their lines.
DIFFERING_SHOWN = 20
TOP = 5

PERIODS = (
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "last_7_days",
    "last_30_days",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
)


def period_for(name: str, today: date) -> tuple[date, date]:
    """The first and last day (both included) of a named period around `today`.

    Calendar periods are whole (this_month ends on the month's last day); weeks start on
    Monday; last_7_days and last_30_days end today.
    """
    if name == "today":
        return today, today
    if name == "yesterday":
        day = today - timedelta(days=1)
        return day, day
    if name in ("this_week", "last_week"):
        monday = today - timedelta(days=today.weekday())
        if name == "last_week":
            monday -= timedelta(days=7)
        return monday, monday + timedelta(days=6)
    if name == "last_7_days":
        return today - timedelta(days=6), today
    if name == "last_30_days":
        return today - timedelta(days=29), today
    if name == "this_month":
        return _month(today.year, today.month)
    if name == "last_month":
        return _month(*_months_before(today.year, today.month, 1))
    if name in ("this_quarter", "last_quarter"):
        first_month = (today.month - 1) // 3 * 3 + 1
        year, month = _months_before(today.year, first_month, 3 if name == "last_quarter" else 0)
        end_year, end_month = _months_before(year, month, -2)
        return date(year, month, 1), _month(end_year, end_month)[1]
    if name == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if name == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    raise ReportError(f"Unknown period {name!r}; one of {', '.join(PERIODS)}.")


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _months_before(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - months
    return index // 12, index % 12 + 1


def booked_orders(start: date, end: date):
    """The sales orders the report counts: booked, dated start…end."""
    return SalesOrder.objects.filter(
        doc_type=SalesOrder.DocType.ORDER,
        status__in=BOOKED_STATUSES,
        order_date__gte=start,
        order_date__lte=end,
    )


CUSTOMER_COLUMNS = [
    Column("customer", "客户编码", "Customer"),
    Column("customer_name", "客户名称", "Customer name"),
    Column("orders", "订单数", "Orders", "qty"),
    Column("amount", "金额", "Amount", "money"),
    Column("share", "占比", "Share", "percent"),
]
PRODUCT_COLUMNS = [
    Column("sku", "物料编码", "SKU"),
    Column("name", "名称", "Name"),
    Column("uom", "单位", "Unit"),
    Column("orders", "订单数", "Orders", "qty"),
    Column("qty", "数量", "Quantity", "qty"),
    Column("amount", "金额", "Amount", "money"),
    Column("share", "占比", "Share", "percent"),
]
ORDER_COLUMNS = [
    Column("number", "订单号", "Order"),
    Column("order_date", "下单日期", "Order date", "date"),
    Column("customer", "客户编码", "Customer"),
    Column("customer_name", "客户名称", "Customer name"),
    Column("salesperson", "销售", "Salesperson"),
    Column("status", "状态", "Status"),
    Column("currency", "币种", "Currency"),
    Column("grand_total", "订单金额", "Order total", "money"),
    Column("lines_amount", "行金额合计", "Lines amount", "money"),
    Column("per_delivered", "已发货", "Delivered", "percent"),
    Column("per_billed", "已开票", "Billed", "percent"),
]


def sales_report(start: date, end: date, progress: Progress = no_progress) -> Report:
    """Booked sales orders dated start…end (both included): by customer, product, order."""
    if start > end:
        raise ReportError(f"The period starts ({start}) after it ends ({end}).")
    progress(0, "finding orders")
    orders = booked_orders(start, end)

    customers = list(
        orders.order_by()
        .values("customer__code", "customer__name", "customer__name_zh")
        .annotate(orders=Count("id"), amount=Sum("grand_total"))
        .order_by("-amount", "customer__code")
    )
    for row in customers:
        row["amount"] = _money(row["amount"])
    total = _money(sum((row["amount"] for row in customers), ZERO))
    progress(20, "sales by customer")

    products = list(
        SalesOrderLine.objects.filter(order__in=orders)
        .order_by()
        .values("item__sku", "item__name", "item__name_zh", "item__stock_uom")
        .annotate(orders=Count("order", distinct=True), qty=Sum("qty"), amount=Sum("amount"))
        .order_by("-amount", "item__sku")
    )
    for row in products:
        row["amount"], row["qty"] = _money(row["amount"]), _qty(row["qty"])
    lines_total = _money(sum((row["amount"] for row in products), ZERO))
    progress(45, "sales by product")

    order_rows = list(
        orders.order_by("order_date", "number").values(
            "pk",
            "number",
            "order_date",
            "customer__code",
            "customer__name",
            "customer__name_zh",
            "salesperson__username",
            "status",
            "currency",
            "grand_total",
            "per_delivered",
            "per_billed",
        )
    )
    lines_by_order = {
        order_id: _money(amount)
        for order_id, amount in SalesOrderLine.objects.filter(order__in=orders)
        .order_by()
        .values("order_id")
        .annotate(amount=Sum("amount"))
        .values_list("order_id", "amount")
    }
    progress(70, "orders")

    excluded = dict(
        SalesOrder.objects.filter(
            doc_type=SalesOrder.DocType.ORDER,
            status__in=NOT_BOOKED_STATUSES,
            order_date__gte=start,
            order_date__lte=end,
        )
        .order_by()
        .values("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    progress(90, "orders left out")

    sheets = [
        _customer_sheet(customers, total),
        _product_sheet(products, lines_total),
        _order_sheet(order_rows, lines_by_order, total, lines_total),
    ]
    differing = [
        row["number"]
        for row in order_rows
        if row["grand_total"] != lines_by_order.get(row["pk"], ZERO)
    ]
    report = Report(
        title=f"Sales {start} – {end}",
        title_zh=f"销售报表 {start} 至 {end}",
        filename=f"sales-{start}-{end}.xlsx",
        sheets=sheets,
        summary=_summary(
            start, end, customers, products, order_rows, total, lines_total, differing, excluded
        ),
    )
    progress(100, "done")
    return report


def _money(value: Decimal | None) -> Decimal:
    """A sum of money to the cent (SQLite adds decimals as floats; this evens it out)."""
    return (value or ZERO).quantize(CENT)


def _qty(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(MILLI)


def _share(amount: Decimal, total: Decimal) -> Decimal:
    return (amount / total).quantize(SHARE) if total else ZERO


def _customer_sheet(customers: list[dict[str, Any]], total: Decimal) -> Sheet:
    return Sheet(
        name="By customer",
        name_zh="按客户",
        columns=CUSTOMER_COLUMNS,
        rows=[
            [
                row["customer__code"],
                Label(row["customer__name_zh"], row["customer__name"]),
                row["orders"],
                row["amount"],
                _share(row["amount"], total),
            ]
            for row in customers
        ],
        totals=[None, None, sum(row["orders"] for row in customers), total, _share(total, total)],
    )


def _product_sheet(products: list[dict[str, Any]], lines_total: Decimal) -> Sheet:
    return Sheet(
        name="By product",
        name_zh="按产品",
        columns=PRODUCT_COLUMNS,
        rows=[
            [
                row["item__sku"],
                Label(row["item__name_zh"], row["item__name"]),
                row["item__stock_uom"],
                row["orders"],
                row["qty"],
                row["amount"],
                _share(row["amount"], lines_total),
            ]
            for row in products
        ],
        # Orders and quantities of different products do not add up; amounts do.
        totals=[None, None, None, None, None, lines_total, _share(lines_total, lines_total)],
    )


def _order_sheet(
    order_rows: list[dict[str, Any]],
    lines_by_order: dict[int, Decimal],
    total: Decimal,
    lines_total: Decimal,
) -> Sheet:
    return Sheet(
        name="Orders",
        name_zh="订单",
        columns=ORDER_COLUMNS,
        rows=[
            [
                row["number"],
                row["order_date"],
                row["customer__code"],
                Label(row["customer__name_zh"], row["customer__name"]),
                row["salesperson__username"] or "",
                Label(STATUS_ZH.get(row["status"], row["status"]), STATUS_EN[row["status"]]),
                row["currency"],
                row["grand_total"],
                lines_by_order.get(row["pk"], ZERO),
                row["per_delivered"] / PERCENT,
                row["per_billed"] / PERCENT,
            ]
            for row in order_rows
        ],
        totals=[None, None, None, None, None, None, None, total, lines_total, None, None],
    )


def _summary(
    start: date,
    end: date,
    customers: list[dict[str, Any]],
    products: list[dict[str, Any]],
    order_rows: list[dict[str, Any]],
    total: Decimal,
    lines_total: Decimal,
    differing: list[str],
    excluded: dict[str, int],
) -> dict[str, Any]:
    difference = total - lines_total
    if differing:
        note = (
            f"The order totals differ from the sum of their lines by {difference} (totals minus "
            f"lines) over {len(differing)} orders: those totals hold amounts that are on no "
            "line, such as an order-level discount, freight or tax."
        )
        note_zh = (
            f"有 {len(differing)} 张订单的订单金额与其行金额合计不符，差额 {difference}"
            "（订单金额减行金额）：这些订单金额含有不在任何行上的款项，如整单折扣、运费或税。"
        )
    else:
        note = (
            "The order totals equal the sum of their lines (line discounts are already in the "
            "line amounts)."
        )
        note_zh = "订单金额与行金额合计一致（行折扣已计入行金额）。"
    return {
        "report": "sales",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "statuses": list(BOOKED_STATUSES),
        "excluded": {status: excluded.get(status, 0) for status in NOT_BOOKED_STATUSES},
        "orders": len(order_rows),
        "customers": len(customers),
        "products": len(products),
        "currencies": sorted({row["currency"] for row in order_rows}),
        "total": str(total),
        "lines_amount": str(lines_total),
        "difference": str(difference),
        "differing_orders": differing[:DIFFERING_SHOWN],
        "differing_count": len(differing),
        "totals_note": note,
        "totals_note_zh": note_zh,
        "top_customers": [
            {
                "code": row["customer__code"],
                "name": row["customer__name"],
                "name_zh": row["customer__name_zh"],
                "orders": row["orders"],
                "amount": str(row["amount"]),
            }
            for row in customers[:TOP]
        ],
        "top_products": [
            {
                "sku": row["item__sku"],
                "name": row["item__name"],
                "name_zh": row["item__name_zh"],
                "qty": str(row["qty"]),
                "amount": str(row["amount"]),
            }
            for row in products[:TOP]
        ],
    }
