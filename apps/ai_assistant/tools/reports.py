"""Report tools: work that takes seconds to minutes, answered with an XLSX in the chat.

Asking for a report (`run`) makes a job (jobs.py): the finished file of an identical earlier
request when the data has not changed since (the cache), or a new job a reports worker makes
(job_runner.py) and sends as a file. Without a worker (sync mode) a small report is made
while the platform waits (AI_ASSISTANT_SYNC_REPORT_SECONDS); a larger one is refused with a
note that it needs async mode. Each tool says which data areas it reads (the cache key),
how to build its report (the ERP apps' builders) and how to word its caption.

A reorder plan can be turned into draft purchase orders: its file asks, and a yes runs
`create_draft_purchase_orders` (a write tool), exactly once per plan.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from apps.inventory.models import Item
from apps.inventory.reports import (
    inventory_valuation,
    merge_valuation,
    valuation_part,
    valued_warehouses,
)
from apps.purchasing.reports import reorder_plan
from apps.purchasing.services import PurchaseError, create_draft_purchase_orders
from apps.reporting.models import INVENTORY, PURCHASING, SALES
from apps.reporting.report import Report, ReportError
from apps.sales.reports import PERIODS, period_for, sales_report

from .. import jobs
from ..models import Conversation, ReportJob
from ..modes import async_mode
from ..pending import stage
from ..texts import text
from ._reply import pick
from .registry import (
    REGISTRY,
    STATUS,
    Preview,
    Tool,
    ToolContext,
    ToolError,
    ToolInputError,
    register,
    stage_tool,
)

JOB = ReportJob.Status
PERIOD_NAMES = {
    "today": ("今天", "today"),
    "yesterday": ("昨天", "yesterday"),
    "this_week": ("本周", "this week"),
    "last_week": ("上周", "last week"),
    "last_7_days": ("最近 7 天", "the last 7 days"),
    "last_30_days": ("最近 30 天", "the last 30 days"),
    "this_month": ("本月", "this month"),
    "last_month": ("上月", "last month"),
    "this_quarter": ("本季度", "this quarter"),
    "last_quarter": ("上季度", "last quarter"),
    "this_year": ("今年", "this year"),
    "last_year": ("去年", "last year"),
}


class ReportTool(Tool):
    """A report made as a job and delivered as a file; subclasses build it."""

    areas: ClassVar[tuple[str, ...]] = ()
    title: ClassVar[dict[str, str]] = {}
    # Made piece by piece by parallel tasks (parts, build_part, merge): a Celery chord.
    parallel: ClassVar[bool] = False
    help_rank = 20

    def job_parameters(self, params: BaseModel) -> dict[str, Any]:
        """The parameters as the job keeps them: JSON, everything relative made absolute
        (this month → its dates), so the cache never confuses two months."""
        return params.model_dump()

    def build(self, parameters: dict[str, Any], progress: Any) -> Report:
        raise NotImplementedError

    def scope(self, parameters: dict[str, Any], language: str) -> str:
        """What the report covers, in words ("本月 2026-12-01 至 2026-12-31")."""
        return ""

    def caption(self, summary: dict[str, Any], language: str) -> str:
        """The line sent with the file, from the report's summary."""
        return ""

    def run(self, ctx: ToolContext, params: BaseModel) -> dict[str, Any]:
        parameters = self.job_parameters(params)
        job = jobs.request(ctx, self, parameters)
        if job.status == JOB.QUEUED and not async_mode():
            job = self._made_while_waiting(job)
        return self.job_data(job)

    def _made_while_waiting(self, job: ReportJob) -> ReportJob:
        """Sync mode: make it now, if it can be made before the platform gives up."""
        from django.conf import settings

        running = jobs.start(job.pk, worker="inline")
        try:
            return jobs.build(
                running, self, budget_seconds=settings.AI_ASSISTANT_SYNC_REPORT_SECONDS
            )
        except jobs.TooLongToWait:
            jobs.failed(running, "too large to make while the chat waits: needs async mode")
        except ReportError as error:
            jobs.failed(running, str(error))
            raise ToolError(str(error)) from error
        running.refresh_from_db()
        return running

    def job_data(self, job: ReportJob) -> dict[str, Any]:
        return {
            "job": job.pk,
            "reference": job.reference,
            "status": job.status,
            "from_cache": job.from_cache,
            "parameters": job.parameters,
            "caption": job.summary_text,
            "error": job.error,
            # The file to send with the reply, when it is there already.
            "attachment": job.pk if job.status == JOB.SUCCEEDED else None,
        }

    def render(self, data: dict[str, Any], language: str) -> str:
        title = self.title.get(language) or self.title.get("en", self.name)
        scope = self.scope(data["parameters"], language)
        what = f"{title}（{scope}）" if scope and language == "zh" else title
        if scope and language != "zh":
            what = f"{title} ({scope})"
        reference = data["reference"]
        if data["status"] == JOB.QUEUED:
            return pick(
                language,
                f"好的，正在生成{what}，任务 {reference}。做好后把文件发给你；"
                "发送 /jobs 查看进度，/cancel 取消。",
                f"On it: making the {what}, job {reference}. I'll send you the file when it "
                "is ready; /jobs shows how far it is, /cancel stops it.",
            )
        opening = what[:1].upper() + what[1:]  # English starts a sentence with it
        if data["status"] == JOB.SUCCEEDED and data["from_cache"]:
            return pick(
                language,
                f"{what}：数据自上次生成后没有变化，直接发你那份文件（{reference}）。\n{data['caption']}",
                f"{opening}: nothing has changed since it was last made, so here is that file "
                f"({reference}).\n{data['caption']}",
            ).strip()
        if data["status"] == JOB.SUCCEEDED:
            return pick(
                language,
                f"{what}已生成（{reference}）。\n{data['caption']}",
                f"{opening} is ready ({reference}).\n{data['caption']}",
            ).strip()
        return pick(
            language,
            f"{what}数据较多，无法在聊天等待的时间内生成（{reference}）。这类报表需要启用异步处理"
            "（AI_ASSISTANT_USE_ASYNC 和 Celery worker），请联系管理员。",
            f"The {what} is too large to make while the chat waits ({reference}). Reports "
            "like this need async mode (AI_ASSISTANT_USE_ASYNC and a Celery worker); please "
            "ask an administrator.",
        )

    def summarize(self, data: dict[str, Any]) -> str:
        cached = " from the cache" if data["from_cache"] else ""
        return f"{data['reference']} {data['status']}{cached}"


def report_names() -> list[str]:
    """The names of the registered report tools."""
    return sorted(name for name, tool in REGISTRY.items() if isinstance(tool, ReportTool))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):,.2f}"


# --- sales --------------------------------------------------------------------------------------


class SalesReportParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(
        None,
        description="A named period: " + ", ".join(PERIODS) + ". Default this_month.",
    )
    start: date | None = Field(None, description="First day, when not a named period.")
    end: date | None = Field(None, description="Last day, when not a named period.")


@register
class SalesReport(ReportTool):
    name = "sales_report"
    description_en = (
        "A spreadsheet of a period's sales orders by customer, by product and order by order, "
        "sent as a file (made in the background; the same request on unchanged data is "
        "answered at once)."
    )
    description_zh = "导出某一时期的销售报表（按客户、按产品、逐单），以 Excel 文件发送。"
    Params = SalesReportParams
    permission = "sales.view_salesorder"
    areas = (SALES,)
    title = {"zh": "销售报表", "en": "sales report"}
    topic = {"zh": "导出销售报表", "en": "export a sales report"}
    examples = {"zh": ["导出本月销售报表", "上月销售报表"], "en": ["sales report for last month"]}

    def job_parameters(self, params: SalesReportParams) -> dict[str, Any]:
        if params.start or params.end:
            if not (params.start and params.end):
                raise ToolInputError("A sales report needs both a first and a last day.")
            if params.start > params.end:
                raise ToolInputError("The first day comes after the last one.")
            return {"period": "", "start": params.start.isoformat(), "end": params.end.isoformat()}
        name = params.period or "this_month"
        if name not in PERIODS:
            raise ToolInputError(f"Unknown period {name}.", candidates=list(PERIODS))
        start, end = period_for(name, timezone.localdate())
        return {"period": name, "start": start.isoformat(), "end": end.isoformat()}

    def build(self, parameters: dict[str, Any], progress: Any) -> Report:
        start, end = date.fromisoformat(parameters["start"]), date.fromisoformat(parameters["end"])
        return sales_report(start, end, progress)

    def scope(self, parameters: dict[str, Any], language: str) -> str:
        dates = pick(language, "{start} 至 {end}", "{start} to {end}").format(**parameters)
        named = PERIOD_NAMES.get(parameters.get("period") or "")
        if not named:
            return dates
        return f"{named[0]} {dates}" if language == "zh" else f"{named[1]}, {dates}"

    def caption(self, summary: dict[str, Any], language: str) -> str:
        return pick(
            language,
            f"订单 {summary['orders']} 张，客户 {summary['customers']} 家，"
            f"合计 ¥{_money(summary['total'])}",
            f"{_count(summary['orders'], 'order')} from "
            f"{_count(summary['customers'], 'customer')}, total ¥{_money(summary['total'])}",
        )


# --- inventory valuation -------------------------------------------------------------------


class ValuationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    warehouses: list[str] | None = Field(
        None, max_length=50, description="Warehouse codes; all warehouses when omitted."
    )
    category: str | None = Field(
        None, max_length=30, description="One item category: " + ", ".join(Item.Category.values)
    )


@register
class InventoryValuationReport(ReportTool):
    name = "inventory_valuation_report"
    description_en = (
        "A spreadsheet of the stock value (quantity × standard cost) per warehouse, category "
        "and item, sent as a file; each warehouse is valued in parallel."
    )
    description_zh = "导出库存估值报表（数量 × 标准成本，按仓库、分类、物料），以 Excel 文件发送。"
    Params = ValuationParams
    permission = "inventory.view_stockmove"  # costs: the stock ledger's readers
    areas = (INVENTORY,)
    parallel = True
    title = {"zh": "库存估值报表", "en": "stock valuation report"}
    topic = {"zh": "导出库存估值", "en": "export the stock valuation"}
    examples = {"zh": ["导出库存估值报表", "主仓库存估值"], "en": ["stock valuation report"]}
    slots = {"warehouses": "warehouse"}

    def job_parameters(self, params: ValuationParams) -> dict[str, Any]:
        codes = sorted({code.strip() for code in params.warehouses or [] if code.strip()})
        return {"warehouses": codes or None, "category": params.category or None}

    def build(self, parameters: dict[str, Any], progress: Any) -> Report:
        return inventory_valuation(parameters["warehouses"], parameters["category"], progress)

    def parts(self, parameters: dict[str, Any]) -> list[str]:
        return valued_warehouses(parameters["warehouses"])

    def build_part(self, parameters: dict[str, Any], warehouse: str) -> dict[str, Any]:
        return valuation_part(warehouse, parameters["category"])

    def merge(self, parameters: dict[str, Any], parts: list[dict[str, Any]]) -> Report:
        return merge_valuation(parts, parameters["category"])

    def scope(self, parameters: dict[str, Any], language: str) -> str:
        where = ", ".join(parameters["warehouses"] or []) or pick(
            language, "全部仓库", "all warehouses"
        )
        return f"{where} · {parameters['category']}" if parameters["category"] else where

    def caption(self, summary: dict[str, Any], language: str) -> str:
        return pick(
            language,
            f"{len(summary['warehouses'])} 个仓库，{summary['lines']} 行，"
            f"库存金额合计 ¥{_money(summary['total_value'])}",
            f"{_count(len(summary['warehouses']), 'warehouse')}, "
            f"{_count(summary['lines'], 'line')}, stock value ¥{_money(summary['total_value'])}",
        )


# --- reorder plan → draft purchase orders ----------------------------------------------------


class ReorderPlanParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    warehouses: list[str] | None = Field(
        None, max_length=50, description="Warehouse codes; all warehouses when omitted."
    )


@register
class ReorderPlanReport(ReportTool):
    name = "reorder_plan"
    description_en = (
        "A spreadsheet of what to order per supplier: items below their reorder point, open "
        "purchase orders counted; the buyer may then confirm draft purchase orders from it."
    )
    description_zh = (
        "生成补货计划（低于补货点的物料，按供应商，已扣除在途采购），可确认后创建采购草稿单。"
    )
    Params = ReorderPlanParams
    permission = "inventory.view_reorderrule"
    areas = (INVENTORY, PURCHASING)
    title = {"zh": "补货计划", "en": "reorder plan"}
    topic = {"zh": "生成补货计划", "en": "make a reorder plan"}
    examples = {"zh": ["生成补货计划", "主仓补货计划"], "en": ["reorder plan for main"]}
    slots = {"warehouses": "warehouse"}

    def job_parameters(self, params: ReorderPlanParams) -> dict[str, Any]:
        codes = sorted({code.strip() for code in params.warehouses or [] if code.strip()})
        return {"warehouses": codes or None}

    def build(self, parameters: dict[str, Any], progress: Any) -> Report:
        return reorder_plan(parameters["warehouses"], progress)

    def scope(self, parameters: dict[str, Any], language: str) -> str:
        return ", ".join(parameters["warehouses"] or []) or pick(
            language, "全部仓库", "all warehouses"
        )

    def caption(self, summary: dict[str, Any], language: str) -> str:
        orders = len({line["supplier"] for line in summary.get("plan_lines", [])})
        lines = len(summary.get("plan_lines", []))
        if not lines:
            return pick(language, "没有需要采购的物料。", "Nothing needs ordering.")
        return pick(
            language,
            f"建议向 {orders} 家供应商采购 {lines} 行，金额约 ¥{_money(summary.get('total', 0))}",
            f"{_count(lines, 'line')} to order from {_count(orders, 'supplier')}, about "
            f"¥{_money(summary.get('total', 0))}",
        )

    def run(self, ctx: ToolContext, params: BaseModel) -> dict[str, Any]:
        data = super().run(ctx, params)
        if data["attachment"] and ctx.conversation is not None:
            data["offer"] = offer_draft_orders(ctx, ReportJob.objects.get(pk=data["job"]))
        return data

    def follow_up(self, job: ReportJob) -> str:
        """Once a worker made the plan: the draft orders staged in the conversation that
        asked for it, and the question to ask ("" when there is none)."""
        inbound = job.inbound
        conversation = Conversation.objects.filter(
            channel=inbound.channel,
            external_conversation_id=inbound.conversation_key,
            user=job.user,
            state=Conversation.State.ACTIVE,
        ).first()
        if conversation is None:
            return ""
        context = ToolContext(
            user=job.user, channel=job.channel, conversation=conversation, language=job.language
        )
        return offer_draft_orders(context, job)

    def render(self, data: dict[str, Any], language: str) -> str:
        offer = data.get("offer") or ""
        return f"{super().render(data, language)}\n{offer}".strip()


class DraftOrdersParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job: int = Field(..., description="The reorder plan job (its number in J-12).")


def plan_job(ctx: ToolContext, job_id: int) -> ReportJob:
    """The user's own finished reorder plan."""
    job = ReportJob.objects.filter(
        pk=job_id, user=ctx.user, report=ReorderPlanReport.name, status=JOB.SUCCEEDED
    ).first()
    if job is None:
        raise ToolInputError(f"No finished reorder plan J-{job_id} of yours.")
    if not job.summary.get("plan_lines"):
        raise ToolError(f"Reorder plan J-{job_id} has nothing to order.")
    return job


@register
class CreateDraftPurchaseOrders(Tool):
    name = "create_draft_purchase_orders"
    description_en = (
        "Create draft purchase orders (one per supplier) from a finished reorder plan; once "
        "per plan, after the user confirms."
    )
    description_zh = (
        "按已生成的补货计划创建采购草稿单（每个供应商一张），每个计划只建一次，需确认。"
    )
    Params = DraftOrdersParams
    permission = "purchasing.add_purchaseorder"
    write = True
    topic = {"zh": "按补货计划创建采购草稿单", "en": "draft purchase orders from a reorder plan"}
    slots = {}
    help_rank = 21

    def preview(self, ctx: ToolContext, params: DraftOrdersParams) -> Preview:
        job = plan_job(ctx, params.job)
        lines = job.summary["plan_lines"]
        suppliers = sorted({line["supplier"] for line in lines})
        target = pick(
            ctx.language,
            f"按补货计划 {job.reference} 创建 {len(suppliers)} 张采购草稿单"
            f"（{', '.join(suppliers)}，共 {len(lines)} 行）",
            f"create {len(suppliers)} draft purchase orders from reorder plan {job.reference} "
            f"({', '.join(suppliers)}; {len(lines)} lines)",
        )
        return Preview(resolved_args={"job": job.pk}, target_repr=target)

    def run(self, ctx: ToolContext, params: DraftOrdersParams) -> dict[str, Any]:
        job = plan_job(ctx, params.job)
        try:
            orders = create_draft_purchase_orders(
                job.summary["plan_lines"],
                ctx.user,
                idempotency_key=f"reorder-plan:{job.repeats_id or job.pk}",
            )
        except PurchaseError as error:
            raise ToolError(str(error)) from error
        return {
            "plan": job.reference,
            "orders": [
                {
                    "number": order.number,
                    "supplier": order.supplier.code,
                    "lines": order.lines.count(),
                }
                for order in orders
            ],
        }

    def render(self, data: dict[str, Any], language: str) -> str:
        listed = "\n".join(
            f"- {order['number']} {order['supplier']}（{order['lines']} 行）"
            if language == "zh"
            else f"- {order['number']} {order['supplier']} ({order['lines']} lines)"
            for order in data["orders"]
        )
        return pick(
            language,
            f"已按补货计划 {data['plan']} 创建采购草稿单：\n{listed}",
            f"Draft purchase orders made from reorder plan {data['plan']}:\n{listed}",
        )


def offer_draft_orders(ctx: ToolContext, job: ReportJob) -> str:
    """Stage draft purchase orders from a finished reorder plan, for the user's yes; the
    question to ask ("" when the plan has nothing to order or the user may not order)."""
    if not job.summary.get("plan_lines"):
        return ""
    result = stage_tool(ctx, CreateDraftPurchaseOrders.name, {"job": job.pk})
    if result.status != STATUS.STAGED:
        return ""
    stage(ctx.user, ctx.conversation, ctx.channel, result)
    return text("confirm", ctx.language, target=result.data["target_repr"])
