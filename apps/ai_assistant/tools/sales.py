"""Sales tools: order status, customers, draft quotes. Orders are row-scoped per salesperson."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from apps.sales import services
from apps.sales.models import Customer, SalesOrder
from apps.sales.reports import PERIODS, period_for
from apps.service.models import ServiceTicket

from ._reply import iso, label, listing, max_rows, person_name, pick
from .lookup import resolve_customer, resolve_item, spellings
from .registry import Preview, Tool, ToolContext, ToolError, ToolInputError, number, register

CENT = Decimal("0.01")
CLOSED_ORDER_STATUSES = (
    SalesOrder.Status.COMPLETED,
    SalesOrder.Status.CANCELLED,
    SalesOrder.Status.CLOSED,
)
ORDER_LABELS_EN = dict(SalesOrder.Status.choices)
Period = Literal[PERIODS]


def period_dates(period: str, today: date) -> tuple[date, date]:
    """The first and last day of a period named relative to today (the ERP's own periods,
    apps/sales/reports.period_for; a period still running ends today)."""
    first, last = period_for(period, today)
    return first, min(last, today)


def visible_orders(user: Any) -> QuerySet[SalesOrder]:
    """Orders the user may see: all with view_all_salesorders, else their own and their
    customers'."""
    orders = SalesOrder.objects.all()
    if not user.has_perm("sales.view_salesorder"):
        # Another tool may name an order (a reservation "for SO-…"): only its viewers see it.
        return orders.none()
    if user.has_perm("sales.view_all_salesorders"):
        return orders
    return orders.filter(Q(salesperson=user) | Q(customer__owner_salesperson=user))


def resolve_visible_order(user: Any, text: str) -> SalesOrder:
    """The order with this number among those the user may see; others read as not found."""
    needle = text.strip()
    orders = visible_orders(user).select_related("customer")
    order = orders.filter(number__in=spellings(needle)).first()
    if order:
        return order
    numbers = list(orders.values_list("number", flat=True)[:2000])
    close = process.extract(needle.upper(), numbers, scorer=fuzz.ratio, score_cutoff=80, limit=5)
    raise ToolInputError(
        f"No sales order “{text}” found.", candidates=[match[0] for match in close]
    )


# ------------------------------------------------------------------------ sales_order_status


class SalesOrderStatusParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_no: str | None = Field(
        None, max_length=30, description="Sales order or quote number, e.g. 'SO-2026-0001'."
    )
    customer: str | None = Field(
        None,
        max_length=100,
        description="Customer code or name, e.g. 'C001' or '恒通'; lists that customer's orders.",
    )
    status: SalesOrder.Status | None = Field(None, description="Only orders in this status.")
    period: Period | None = Field(
        None,
        description="Only orders dated in this period, counted from today, e.g. 'last_week' "
        "for 上周的订单, 'this_month' for 'orders this month'.",
    )
    limit: int = Field(5, ge=1, le=20, description="At most this many orders.")


def _order_row(order: SalesOrder) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "number": order.number,
        "doc_type": order.doc_type,
        "customer_code": order.customer.code,
        "customer": order.customer.display_name,
        "customer_name_en": order.customer.name,
        "salesperson": person_name(order.salesperson),
        "status": order.status,
        "order_date": iso(order.order_date),
        "promised_date": iso(order.promised_date),
        "late": bool(
            order.promised_date
            and order.promised_date < today
            and order.status not in CLOSED_ORDER_STATUSES
            and order.per_delivered < 100
        ),
        "per_delivered": number(order.per_delivered),
        "per_billed": number(order.per_billed),
        "grand_total": number(order.grand_total),
        "currency": order.currency,
        "work_orders": [
            {"number": work_order.number, "status": work_order.status}
            for work_order in order.work_orders.all()
        ],
    }


@register
class SalesOrderStatus(Tool):
    name = "sales_order_status"
    description_en = (
        "Status of sales orders by number or customer: % delivered and billed, promised date, "
        "total, linked work orders."
    )
    description_zh = "按单号或客户查询销售订单状态：发货/开票进度、承诺交期、金额、关联工单。"
    Params = SalesOrderStatusParams
    permission = "sales.view_salesorder"
    topic = {"zh": "查询销售订单", "en": "see sales orders"}
    examples = {
        "zh": ["SO-2026-0003 到哪了", "恒通的订单"],
        "en": ["where is SO-2026-0003", "orders for C001"],
    }
    slots = {"order_no": "sales_order", "customer": "customer"}
    help_rank = 5

    def run(self, ctx: ToolContext, params: SalesOrderStatusParams) -> dict[str, Any]:
        orders = visible_orders(ctx.user).select_related("customer", "salesperson")
        orders = orders.prefetch_related("work_orders")
        customer = None
        if params.order_no:
            orders = orders.filter(pk=resolve_visible_order(ctx.user, params.order_no).pk)
        if params.customer:
            customer = resolve_customer(params.customer)
            orders = orders.filter(customer=customer)
        if params.status:
            orders = orders.filter(status=params.status)
        dated = None
        if params.period:
            first, last = period_dates(params.period, timezone.localdate())
            orders = orders.filter(order_date__gte=first, order_date__lte=last)
            dated = {"period": params.period, "from": iso(first), "to": iso(last)}
        count = orders.count()
        rows = [_order_row(order) for order in orders[: params.limit]]
        return {
            "order_no": params.order_no,
            "customer": f"{customer.code} {customer.display_name}" if customer else None,
            "status": params.status,
            "dated": dated,
            "count": count,
            "orders": rows,
        }

    def render(self, data: dict[str, Any], language: str) -> str:
        dated = data.get("dated")
        when = ""
        if dated:
            when = pick(
                language,
                f"（下单日期 {dated['from']} 至 {dated['to']}）",
                f" (ordered {dated['from']} to {dated['to']})",
            )
        if not data["orders"]:
            return pick(
                language, f"没有找到符合条件的订单{when}。", f"No matching orders found{when}."
            )
        lines = [self._line(row, language) for row in data["orders"]]
        header = pick(language, f"销售订单{when}：", f"Sales orders{when}:")
        return listing(header, lines, data["count"], language)

    @staticmethod
    def _line(row: dict[str, Any], language: str) -> str:
        status = label(row["status"], language, ORDER_LABELS_EN)
        promised = row["promised_date"] or "-"
        money = f"{row['grand_total']} {row['currency']}"
        if language == "zh":
            line = (
                f"- {row['number']} {row['customer']}：{status}，已发货 {row['per_delivered']}%，"
                f"已开票 {row['per_billed']}%，承诺交期 {promised}，金额 {money}"
            )
            if row["late"]:
                line += "，⚠ 已逾期"
            if row["work_orders"]:
                line += "；工单 " + "、".join(
                    f"{wo['number']}（{label(wo['status'], language)}）"
                    for wo in row["work_orders"]
                )
            return line
        line = (
            f"- {row['number']} {row['customer_name_en']}: {status}, "
            f"{row['per_delivered']}% delivered, {row['per_billed']}% billed, "
            f"promised {promised}, total {money}"
        )
        if row["late"]:
            line += ", ⚠ late"
        if row["work_orders"]:
            line += "; work orders " + ", ".join(
                f"{wo['number']} ({label(wo['status'], language)})" for wo in row["work_orders"]
            )
        return line

    def summarize(self, data: dict[str, Any]) -> str:
        return f"{data['count']} orders: " + ", ".join(
            f"{row['number']} {row['status']}" for row in data["orders"]
        )


# ---------------------------------------------------------------------------- customer_lookup


class CustomerLookupParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1,
        max_length=100,
        description="Customer code or part of the name, e.g. 'C001', '恒通' or 'Hengtong'.",
    )


def _bigrams(text: str) -> set[str]:
    text = text.lower().replace(" ", "")
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _customer_candidates(query: str) -> list[str]:
    """Customers sharing the most two-character pieces with the query (works for 中文 too)."""
    wanted = _bigrams(query)
    scored = []
    for customer in Customer.objects.filter(active=True):
        shared = len(wanted & _bigrams(f"{customer.code} {customer.name} {customer.name_zh}"))
        if shared:
            scored.append((-shared, customer.code, str(customer)))
    return [text for *_, text in sorted(scored)[:5]]


@register
class CustomerLookup(Tool):
    name = "customer_lookup"
    description_en = "Find customers by code or name: owner salesperson, open orders, open tickets."
    description_zh = "按编码或名称查找客户：负责销售、未完成订单数、未结服务单数。"
    Params = CustomerLookupParams
    permission = "sales.view_customer"
    topic = {"zh": "查询客户资料", "en": "look up customers"}
    examples = {
        "zh": ["查一下客户 恒通"],
        "en": ["customer C001"],
    }
    slots = {"query": "customer"}
    help_rank = 6

    def run(self, ctx: ToolContext, params: CustomerLookupParams) -> dict[str, Any]:
        needle = params.query.strip()
        customers = Customer.objects.filter(active=True).select_related("owner_salesperson")
        matches = customers.filter(code__in=spellings(needle))
        if not matches.exists():
            matches = customers.filter(
                Q(name_zh__icontains=needle) | Q(name__icontains=needle) | Q(code__icontains=needle)
            )
        count = matches.count()
        if not count:
            raise ToolInputError(
                f"No customer matches “{params.query}”.", candidates=_customer_candidates(needle)
            )
        found = list(matches[: max_rows()])
        open_orders = dict(
            visible_orders(ctx.user)
            .filter(customer__in=found, doc_type=SalesOrder.DocType.ORDER)
            .exclude(status__in=CLOSED_ORDER_STATUSES)
            .order_by()
            .values("customer_id")
            .annotate(total=Count("id"))
            .values_list("customer_id", "total")
        )
        open_tickets = dict(
            ServiceTicket.objects.filter(customer__in=found, status__in=ServiceTicket.OPEN_STATUSES)
            .order_by()
            .values("customer_id")
            .annotate(total=Count("id"))
            .values_list("customer_id", "total")
        )
        rows = [
            {
                "code": customer.code,
                "name": customer.name,
                "name_zh": customer.name_zh,
                "territory": customer.territory,
                "owner": person_name(customer.owner_salesperson),
                "open_orders": open_orders.get(customer.pk, 0),
                "open_tickets": open_tickets.get(customer.pk, 0),
            }
            for customer in found
        ]
        return {"query": params.query, "count": count, "customers": rows}

    def render(self, data: dict[str, Any], language: str) -> str:
        lines = []
        for row in data["customers"]:
            name = row["name_zh"] or row["name"] if language == "zh" else row["name"]
            owner = row["owner"] or "-"
            lines.append(
                pick(
                    language,
                    f"- {row['code']} {name}：负责销售 {owner}，"
                    f"未完成订单 {row['open_orders']} 张，"
                    f"未结服务单 {row['open_tickets']} 张",
                    f"- {row['code']} {name}: owner {owner}, {row['open_orders']} open orders, "
                    f"{row['open_tickets']} open service tickets",
                )
            )
        header = pick(language, "客户：", "Customers:")
        return listing(header, lines, data["count"], language)

    def summarize(self, data: dict[str, Any]) -> str:
        return f"{data['count']} customers: " + ", ".join(
            row["code"] for row in data["customers"][:10]
        )


# ------------------------------------------------------------------------ create_sales_quote


class QuoteLineParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = Field(
        min_length=1,
        max_length=100,
        description="The item: SKU, name or alias, e.g. 'LC-3015-6KW'.",
    )
    qty: Decimal = Field(
        gt=0, max_digits=14, decimal_places=3, description="Quantity in the item's unit."
    )


class CreateQuoteParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: str = Field(
        min_length=1, max_length=100, description="Customer code or name, e.g. 'C001' or '恒通'."
    )
    lines: list[QuoteLineParams] = Field(
        min_length=1,
        max_length=20,
        description="What to quote; prices come from the price list, never from the request.",
    )
    note: str | None = Field(None, max_length=500, description="A note printed on the quote.")


def _priced_lines(params: CreateQuoteParams) -> tuple[list[services.PricedLine], str]:
    """Each requested line with its item and list price; refuses unpriced items."""
    lines = [(resolve_item(line.item), line.qty) for line in params.lines]
    try:
        return services.price_lines(lines)
    except services.QuoteError as error:
        raise ToolError(str(error)) from error


@register
class CreateSalesQuote(Tool):
    name = "create_sales_quote"
    description_en = (
        "Create a DRAFT sales quote for a customer, priced from the list price. Never sent."
    )
    description_zh = "为客户创建报价单草稿，价格取自标价，不会发送给客户。"
    Params = CreateQuoteParams
    permission = "sales.create_quote"
    write = True
    topic = {"zh": "创建报价单", "en": "create sales quotes"}
    examples = {
        "zh": ["给C001报价 1台切割机"],
        "en": ["quote 1 x LC-3015-6KW for C001"],
    }
    help_rank = 12

    def preview(self, ctx: ToolContext, params: CreateQuoteParams) -> Preview:
        customer = resolve_customer(params.customer)
        priced, currency = _priced_lines(params)
        total = sum((line.amount for line in priced), Decimal("0"))
        if ctx.language == "zh":
            parts = "、".join(
                f"{number(line.qty)} {line.item.stock_uom} {line.item.sku} {line.item.display_name}"
                for line in priced
            )
            target = (
                f"为 {customer.code} {customer.display_name} 创建报价单草稿：{parts}，"
                f"按标价合计 {number(total)} {currency}（不会发送给客户）"
            )
        else:
            parts = ", ".join(
                f"{number(line.qty)} {line.item.stock_uom} {line.item.sku} {line.item.name}"
                for line in priced
            )
            target = (
                f"Create a draft quote for {customer.code} {customer.name}: {parts}; "
                f"list-price total {number(total)} {currency} (not sent to the customer)"
            )
        resolved = {
            "customer": customer.code,
            "lines": [{"item": line.item.sku, "qty": number(line.qty)} for line in priced],
            "note": params.note,
        }
        return Preview(resolved_args=resolved, target_repr=target)

    def run(self, ctx: ToolContext, params: CreateQuoteParams) -> dict[str, Any]:
        customer = resolve_customer(params.customer)
        priced, currency = _priced_lines(params)
        quote = services.create_quote(
            customer=customer,
            lines=priced,
            currency=currency,
            salesperson=ctx.user,
            note=params.note or "",
        )
        return {
            "number": quote.number,
            "status": quote.status,
            "customer_code": customer.code,
            "customer": customer.display_name,
            "customer_name_en": customer.name,
            "lines": [
                {
                    "sku": line.item.sku,
                    "name": line.item.name,
                    "name_zh": line.item.name_zh,
                    "qty": number(line.qty),
                    "uom": line.item.stock_uom,
                    "rate": number(line.rate),
                    "amount": number(line.amount),
                }
                for line in priced
            ],
            "grand_total": number(quote.grand_total),
            "currency": quote.currency,
        }

    def render(self, data: dict[str, Any], language: str) -> str:
        lines = []
        for row in data["lines"]:
            name = row["name_zh"] or row["name"] if language == "zh" else row["name"]
            lines.append(
                f"- {row['sku']} {name}: {row['qty']} {row['uom']} × {row['rate']} "
                f"= {row['amount']} {data['currency']}"
            )
        header = pick(
            language,
            f"已创建报价单草稿 {data['number']}（{data['customer_code']} {data['customer']}），"
            f"合计 {data['grand_total']} {data['currency']}，未发送给客户：",
            f"Draft quote {data['number']} created for {data['customer_code']} "
            f"{data['customer_name_en']}, total {data['grand_total']} {data['currency']}, "
            f"not sent:",
        )
        return listing(header, lines, len(data["lines"]), language)

    def summarize(self, data: dict[str, Any]) -> str:
        return f"{data['number']} {data['customer_code']} {data['grand_total']} {data['currency']}"
