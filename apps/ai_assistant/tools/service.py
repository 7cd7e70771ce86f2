"""Service tools: ticket status, and opening a ticket for a machine."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from pydantic import BaseModel, ConfigDict, Field

from apps.inventory.models import SerialNumber
from apps.service import services
from apps.service.models import ServiceTicket

from ._reply import iso, label, listing, max_rows, person_name, pick
from .inventory import WARRANTY_LABELS_EN, customer_words, resolve_serial
from .lookup import resolve_customer, spellings
from .registry import Preview, Tool, ToolContext, ToolError, ToolInputError, register

TICKET_LABELS_EN = dict(ServiceTicket.Status.choices)


# ---------------------------------------------------------------------- service_ticket_status


class TicketStatusParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_no: str | None = Field(
        None, max_length=30, description="Service ticket number, e.g. 'ST-2026-0001'."
    )
    serial_no: str | None = Field(
        None, max_length=40, description="Machine serial number; lists its tickets."
    )
    customer: str | None = Field(
        None, max_length=100, description="Customer code or name; lists its tickets."
    )
    open_only: bool = Field(
        False, description="Only tickets not yet resolved, closed or cancelled."
    )


@register
class ServiceTicketStatus(Tool):
    name = "service_ticket_status"
    description_en = (
        "Status of service tickets by ticket number, machine serial or customer: status, "
        "engineer, priority, complaint, last update. Without arguments: my open tickets."
    )
    description_zh = (
        "按服务单号、机器序列号或客户查询售后服务单：状态、工程师、优先级、故障描述、最近更新。"
    )
    Params = TicketStatusParams
    permission = "service.view_serviceticket"
    topic = {"zh": "查询售后服务单", "en": "see service tickets"}
    examples = {
        "zh": ["ST-2026-0001 处理得怎么样了"],
        "en": ["status of ST-2026-0001"],
    }
    slots = {"ticket_no": "service_ticket", "serial_no": "serial", "customer": "customer"}
    help_rank = 9

    def run(self, ctx: ToolContext, params: TicketStatusParams) -> dict[str, Any]:
        tickets = ServiceTicket.objects.select_related(
            "customer", "serial", "item", "assigned_engineer"
        )
        if params.ticket_no:
            tickets = tickets.filter(number__in=spellings(params.ticket_no))
            if not tickets.exists():
                raise ToolInputError(f"No service ticket “{params.ticket_no}” found.")
        if params.serial_no:
            tickets = tickets.filter(serial=resolve_serial(params.serial_no))
        if params.customer:
            tickets = tickets.filter(customer=resolve_customer(params.customer))
        mine = not (params.ticket_no or params.serial_no or params.customer)
        if mine:
            tickets = tickets.filter(Q(assigned_engineer=ctx.user) | Q(created_by=ctx.user))
        if params.open_only or mine:
            tickets = tickets.filter(status__in=ServiceTicket.OPEN_STATUSES)
        count = tickets.count()
        rows = []
        for ticket in tickets[: max_rows()]:
            customer, masked = customer_words(ticket.customer, ctx.user)
            rows.append(
                {
                    "number": ticket.number,
                    "status": ticket.status,
                    "priority": ticket.priority,
                    "category": ticket.category,
                    "customer": customer,
                    "customer_masked": masked,
                    "customer_code": None
                    if masked or not ticket.customer
                    else ticket.customer.code,
                    "serial_no": ticket.serial.serial if ticket.serial else None,
                    "sku": ticket.item.sku if ticket.item else None,
                    "engineer": person_name(ticket.assigned_engineer),
                    "complaint": ticket.complaint[:200],
                    "warranty_status_at_open": ticket.warranty_status_at_open or None,
                    "created_at": iso(ticket.created_at),
                    "last_update": iso(ticket.updated_at),
                    "resolution": ticket.resolution[:200] or None,
                }
            )
        return {"mine": mine, "count": count, "tickets": rows}

    def render(self, data: dict[str, Any], language: str) -> str:
        if not data["tickets"]:
            return pick(language, "没有符合条件的服务单。", "No matching service tickets.")
        lines = []
        for row in data["tickets"]:
            status = label(row["status"], language, TICKET_LABELS_EN)
            priority = label(row["priority"], language)
            engineer = row["engineer"] or pick(language, "未分配", "unassigned")
            machine = row["serial_no"] or "-"
            lines.append(
                pick(
                    language,
                    f"- {row['number']} {row['customer']}（{machine}）：{status}，"
                    f"优先级 {priority}，"
                    f"工程师 {engineer}，故障：{row['complaint']}，最近更新 {row['last_update']}",
                    f"- {row['number']} {row['customer']} ({machine}): {status}, priority "
                    f"{priority}, engineer {engineer}, complaint: {row['complaint']}, "
                    f"last update {row['last_update']}",
                )
            )
        header = pick(language, "服务单：", "Service tickets:")
        return listing(header, lines, data["count"], language)

    def summarize(self, data: dict[str, Any]) -> str:
        return f"{data['count']} tickets: " + ", ".join(
            f"{row['number']} {row['status']}" for row in data["tickets"][:10]
        )


# ------------------------------------------------------------------------ open_service_ticket


class OpenTicketParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    serial_no: str = Field(
        min_length=3, max_length=40, description="Serial number of the machine, e.g. 'LX20260001'."
    )
    complaint: str = Field(
        min_length=2, max_length=2000, description="What is wrong, in the customer's words."
    )
    category: ServiceTicket.Category = Field(
        ServiceTicket.Category.REPAIR, description="Kind of service needed."
    )
    priority: ServiceTicket.Priority = Field(
        ServiceTicket.Priority.NORMAL, description="How urgent the ticket is."
    )


def _machine_for_ticket(text: str) -> SerialNumber:
    serial = resolve_serial(text)
    try:
        services.check_machine_at_customer(serial)
    except services.TicketError as error:
        raise ToolError(str(error)) from error
    return serial


@register
class OpenServiceTicket(Tool):
    name = "open_service_ticket"
    description_en = (
        "Open an after-sales service ticket for a customer's machine by serial number; "
        "checks the warranty."
    )
    description_zh = "按机器序列号为客户开售后服务单，并检查保修状态。"
    Params = OpenTicketParams
    permission = "service.add_serviceticket"
    write = True
    topic = {"zh": "开售后服务单", "en": "open service tickets"}
    examples = {
        "zh": ["帮我给LX20250007开个维修单，激光器不出光"],
        "en": ["open a ticket for LX20250007: no laser output"],
    }
    help_rank = 10

    def preview(self, ctx: ToolContext, params: OpenTicketParams) -> Preview:
        serial = _machine_for_ticket(params.serial_no)
        customer, _ = customer_words(serial.customer, ctx.user)
        warranty = label(serial.warranty_status(), ctx.language, WARRANTY_LABELS_EN)
        category = label(params.category, ctx.language)
        priority = label(params.priority, ctx.language)
        if ctx.language == "zh":
            target = (
                f"为 {serial.serial}（{serial.item.sku} {serial.item.display_name}，{customer}，"
                f"{warranty}，保修至 {iso(serial.warranty_end) or '-'}）开{category}服务单，"
                f"优先级 {priority}：{params.complaint}"
            )
        else:
            target = (
                f"Open a {category} ticket ({priority} priority) for {serial.serial} "
                f"({serial.item.sku} {serial.item.name}, {customer}, {warranty}, warranty end "
                f"{iso(serial.warranty_end) or '-'}): {params.complaint}"
            )
        resolved = {
            "serial_no": serial.serial,
            "complaint": params.complaint,
            "category": str(params.category),
            "priority": str(params.priority),
        }
        return Preview(resolved_args=resolved, target_repr=target)

    def run(self, ctx: ToolContext, params: OpenTicketParams) -> dict[str, Any]:
        serial = _machine_for_ticket(params.serial_no)
        ticket = services.open_ticket(
            serial=serial,
            complaint=params.complaint,
            category=params.category,
            priority=params.priority,
            created_by=ctx.user,
            channel=ctx.channel,
        )
        warranty_status = ticket.warranty_status_at_open
        customer, masked = customer_words(serial.customer, ctx.user)
        return {
            "number": ticket.number,
            "status": ticket.status,
            "category": ticket.category,
            "priority": ticket.priority,
            "serial_no": serial.serial,
            "sku": serial.item.sku,
            "name": serial.item.name,
            "name_zh": serial.item.name_zh,
            "customer": customer,
            "customer_masked": masked,
            "warranty_status": warranty_status or None,
            "warranty_end": iso(serial.warranty_end),
        }

    def render(self, data: dict[str, Any], language: str) -> str:
        warranty = label(data["warranty_status"], language, WARRANTY_LABELS_EN)
        end = data["warranty_end"] or "-"
        return pick(
            language,
            f"已创建服务单 {data['number']}：{data['serial_no']}（{data['sku']} "
            f"{data['name_zh'] or data['name']}，{data['customer']}），保修状态：{warranty}"
            f"（保修至 {end}）。",
            f"Service ticket {data['number']} opened for {data['serial_no']} ({data['sku']} "
            f"{data['name']}, {data['customer']}); warranty: {warranty} (ends {end}).",
        )

    def summarize(self, data: dict[str, Any]) -> str:
        return f"{data['number']} {data['serial_no']} {data['warranty_status']}"
