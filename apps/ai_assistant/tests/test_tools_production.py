"""The production progress tool against the demo company's work orders."""

import pytest
from django.utils import timezone

from apps.ai_assistant.models import ToolExecutionLog
from apps.production.models import WorkOrder

from .tool_helpers import call, render

pytestmark = pytest.mark.django_db


def in_process_order():
    return WorkOrder.objects.filter(status="in_process", operations__isnull=False).first()


def test_production_progress_counts_the_operations_done():
    work_order = in_process_order()

    result = call("prod1", "production_progress", {"work_order": work_order.number})

    operations = work_order.operations.all()
    done = operations.filter(status="done").count()
    row = result.data["work_orders"][0]
    assert result.status == "success"
    assert (row["operations_done"], row["operations_total"]) == (done, operations.count())
    assert row["percent_done"] == round(done * 100 / operations.count())
    assert row["planned_end"] == work_order.planned_end.isoformat()
    assert f"完成 {row['percent_done']}%" in render(result)


def test_production_progress_names_the_current_operation():
    work_order = in_process_order()
    current = work_order.operations.filter(status="in_progress").first() or (
        work_order.operations.filter(status="pending").first()
    )

    result = call("prod1", "production_progress", {"work_order": work_order.number}, language="en")

    assert result.data["work_orders"][0]["current_operation"] == current.name
    assert f"current {current.name}" in render(result, "en")


def test_production_progress_flags_a_late_work_order():
    work_order = in_process_order()
    work_order.planned_end = timezone.localdate().replace(year=2020)
    work_order.save()

    result = call("prod1", "production_progress", {"work_order": work_order.number})

    assert result.data["work_orders"][0]["late"] is True
    assert "已延期" in render(result)


def test_production_progress_finds_the_work_orders_of_a_sales_order():
    work_order = WorkOrder.objects.filter(sales_order__isnull=False).first()
    number = work_order.sales_order.number

    result = call("prod1", "production_progress", {"sales_order": number})

    expected = WorkOrder.objects.filter(sales_order__number=number)
    assert {row["number"] for row in result.data["work_orders"]} == {w.number for w in expected}


def test_production_progress_needs_a_reference():
    result = call("prod1", "production_progress", {})

    assert result.status == "invalid"
    assert "give a work order, a sales order, a serial number or a customer" in result.message


def test_production_progress_of_a_customer_is_its_orders_work_orders():
    result = call("prod1", "production_progress", {"customer": "创新精密"})

    assert result.ok
    assert [row["sales_order"] for row in result.data["work_orders"]] == ["SO-2026-0007"]


def test_production_progress_refuses_an_unknown_work_order():
    result = call("prod1", "production_progress", {"work_order": "WO-1999-0001"})

    assert result.status == "invalid"
    assert "WO-1999-0001" in result.message


def test_production_progress_is_denied_to_a_user_without_view_workorder():
    result = call("wh1", "production_progress", {"work_order": "WO-2026-0001"})

    assert result.status == "denied"
    assert ToolExecutionLog.objects.get(pk=result.log_id).status == "denied"
