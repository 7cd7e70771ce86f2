"""Production tool: how far work orders are, found by work order, sales order or serial."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, model_validator

from apps.production.models import WorkOrder, WorkOrderOperation

from ._reply import capped, iso, label, listing, pick
from .lookup import resolve_customer, spellings
from .registry import Tool, ToolContext, ToolInputError, number, register

FINISHED = (WorkOrder.Status.COMPLETED, WorkOrder.Status.CANCELLED)
WORK_ORDER_LABELS_EN = dict(WorkOrder.Status.choices)


class ProductionProgressParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    work_order: str | None = Field(
        None, max_length=30, description="Work order number, e.g. 'WO-2026-0001'."
    )
    sales_order: str | None = Field(
        None, max_length=30, description="Sales order number; shows its work orders."
    )
    serial_no: str | None = Field(
        None, max_length=40, description="Serial number of the machine being built."
    )
    customer: str | None = Field(
        None,
        max_length=100,
        description="Customer code or name, e.g. 'C010' or '创新精密'; the work orders of "
        "that customer's sales orders.",
    )

    @model_validator(mode="after")
    def _needs_a_reference(self):
        if not (self.work_order or self.sales_order or self.serial_no or self.customer):
            raise ValueError("give a work order, a sales order, a serial number or a customer")
        return self


def _progress(work_order: WorkOrder) -> dict[str, Any]:
    operations = list(work_order.operations.all())
    done = [op for op in operations if op.status == WorkOrderOperation.Status.DONE]
    current = next(
        (op for op in operations if op.status == WorkOrderOperation.Status.IN_PROGRESS), None
    )
    if current is None and work_order.status == WorkOrder.Status.IN_PROCESS:
        current = next(
            (op for op in operations if op.status == WorkOrderOperation.Status.PENDING), None
        )
    percent = round(len(done) * 100 / len(operations)) if operations else 0
    today = timezone.localdate()
    return {
        "number": work_order.number,
        "sku": work_order.item.sku,
        "name": work_order.item.name,
        "name_zh": work_order.item.name_zh,
        "qty": number(work_order.qty),
        "produced_qty": number(work_order.produced_qty),
        "uom": work_order.item.stock_uom,
        "status": work_order.status,
        "sales_order": work_order.sales_order.number if work_order.sales_order else None,
        "serial_no": work_order.serial_no or None,
        "current_operation": current.name if current else None,
        "current_operation_zh": (current.name_zh or current.name) if current else None,
        "operations_done": len(done),
        "operations_total": len(operations),
        "percent_done": percent,
        "planned_start": iso(work_order.planned_start),
        "planned_end": iso(work_order.planned_end),
        "late": bool(
            work_order.planned_end
            and work_order.planned_end < today
            and work_order.status not in FINISHED
        ),
    }


@register
class ProductionProgress(Tool):
    name = "production_progress"
    description_en = (
        "Progress of work orders by work order, sales order, serial number or customer: status, "
        "current operation, operations done, % done, planned end, late."
    )
    description_zh = (
        "按工单号、销售订单号、序列号或客户查询生产进度：状态、当前工序、完成比例、"
        "计划完工、是否延期。"
    )
    Params = ProductionProgressParams
    permission = "production.view_workorder"
    topic = {"zh": "查询生产进度", "en": "see production progress"}
    examples = {
        "zh": ["WO-2026-0002 做到哪一步了"],
        "en": ["progress of WO-2026-0002"],
    }
    slots = {
        "work_order": "work_order",
        "sales_order": "sales_order",
        "serial_no": "serial",
        "customer": "customer",
    }
    help_rank = 7

    def run(self, ctx: ToolContext, params: ProductionProgressParams) -> dict[str, Any]:
        work_orders = WorkOrder.objects.select_related("item", "sales_order")
        work_orders = work_orders.prefetch_related("operations")
        reference = params.work_order or params.sales_order or params.serial_no or params.customer
        if params.work_order:
            work_orders = work_orders.filter(number__in=spellings(params.work_order))
        if params.sales_order:
            work_orders = work_orders.filter(sales_order__number__in=spellings(params.sales_order))
        if params.serial_no:
            work_orders = work_orders.filter(serial_no__in=spellings(params.serial_no))
        if params.customer:
            customer = resolve_customer(params.customer)
            work_orders = work_orders.filter(sales_order__customer=customer)
        found = list(work_orders)
        if not found:
            raise ToolInputError(f"No work order found for “{reference}”.")
        rows = [_progress(work_order) for work_order in found]
        return {"reference": reference, "count": len(rows), "work_orders": capped(rows)}

    def render(self, data: dict[str, Any], language: str) -> str:
        lines = []
        for row in data["work_orders"]:
            status = label(row["status"], language, WORK_ORDER_LABELS_EN)
            current = row["current_operation_zh"] if language == "zh" else row["current_operation"]
            planned = row["planned_end"] or "-"
            if language == "zh":
                line = (
                    f"- {row['number']} {row['sku']} {row['name_zh'] or row['name']}"
                    f"（{row['qty']} {row['uom']}）：{status}，工序 {row['operations_done']}/"
                    f"{row['operations_total']}，完成 {row['percent_done']}%，"
                    f"当前工序 {current or '-'}，计划完工 {planned}"
                )
                if row["late"]:
                    line += "，⚠ 已延期"
            else:
                line = (
                    f"- {row['number']} {row['sku']} {row['name']} ({row['qty']} {row['uom']}): "
                    f"{status}, operations {row['operations_done']}/{row['operations_total']}, "
                    f"{row['percent_done']}% done, current {current or '-'}, "
                    f"planned end {planned}"
                )
                if row["late"]:
                    line += ", ⚠ late"
            lines.append(line)
        header = pick(language, "生产进度：", "Production progress:")
        return listing(header, lines, data["count"], language)

    def summarize(self, data: dict[str, Any]) -> str:
        return ", ".join(
            f"{row['number']} {row['status']} {row['percent_done']}%"
            for row in data["work_orders"][:10]
        )
