"""Service tools against the demo company: ticket status and opening tickets."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from apps.inventory.models import SerialNumber
from apps.service.models import ServiceTicket

from . import tool_helpers
from .tool_helpers import log_of, render

pytestmark = pytest.mark.django_db


def call(username, tool, params, **options):
    return tool_helpers.call(username, tool, params, channel="wecom", **options)


# service_ticket_status


def test_ticket_status_reports_a_ticket_by_number():
    ticket = ServiceTicket.objects.filter(assigned_engineer__isnull=False).first()

    result = call("svc1", "service_ticket_status", {"ticket_no": ticket.number})

    row = result.data["tickets"][0]
    engineer = ticket.assigned_engineer
    assert result.status == "success"
    assert (row["number"], row["status"], row["priority"]) == (
        ticket.number,
        ticket.status,
        ticket.priority,
    )
    assert row["engineer"] == f"{engineer.last_name}{engineer.first_name}"
    assert row["complaint"] == ticket.complaint[:200]
    assert ticket.number in render(result) and row["engineer"] in render(result)


def test_ticket_status_lists_the_tickets_of_a_machine():
    result = call("svc1", "service_ticket_status", {"serial_no": "LX20260001"}, language="en")

    expected = ServiceTicket.objects.filter(serial__serial="LX20260001")
    assert {row["number"] for row in result.data["tickets"]} == {t.number for t in expected}
    assert f"{expected.count()} in total" in render(result, "en")


def test_ticket_status_lists_my_open_tickets_without_arguments():
    result = call("svc1", "service_ticket_status", {})

    for row in result.data["tickets"]:
        assert row["status"] in ServiceTicket.OPEN_STATUSES


def test_ticket_status_refuses_an_unknown_ticket():
    result = call("svc1", "service_ticket_status", {"ticket_no": "ST-1999-0001"})

    assert result.status == "invalid"
    assert "ST-1999-0001" in result.message
    assert log_of(result).status == "invalid"


def test_ticket_status_is_denied_to_a_user_without_view_serviceticket():
    result = call("wh1", "service_ticket_status", {"serial_no": "LX20260001"})

    assert result.status == "denied"
    assert log_of(result).status == "denied"


# open_service_ticket

TICKET = {"serial_no": "LX20260001", "complaint": "切割头报警，无法穿孔", "priority": "high"}


def test_open_ticket_is_only_staged_without_confirmation():
    before = ServiceTicket.objects.count()

    result = call("svc1", "open_service_ticket", TICKET)

    assert result.status == "staged"
    assert result.data["resolved_args"] == {
        "serial_no": "LX20260001",
        "complaint": "切割头报警，无法穿孔",
        "category": "repair",
        "priority": "high",
    }
    assert "苏州恒通钣金有限公司" in result.data["target_repr"]
    assert "保修期内" in result.data["target_repr"]
    assert ServiceTicket.objects.count() == before


def test_open_ticket_creates_one_ticket_for_the_machines_customer_when_confirmed():
    before = ServiceTicket.objects.count()
    serial = SerialNumber.objects.get(serial="LX20260001")

    result = call("svc1", "open_service_ticket", TICKET, confirmed=True)

    ticket = ServiceTicket.objects.get(number=result.data["number"])
    assert ServiceTicket.objects.count() == before + 1
    assert ticket.customer == serial.customer
    assert ticket.serial == serial and ticket.item == serial.item
    assert (ticket.category, ticket.priority, ticket.status) == ("repair", "high", "open")
    assert ticket.warranty_status_at_open == "under_warranty"
    assert ticket.created_by.username == "svc1"
    assert ticket.channel == "wecom"
    assert ticket.number in render(result) and "保修期内" in render(result)


def test_open_ticket_takes_the_number_after_the_highest_of_the_year():
    prefix = f"ST-{timezone.localdate().year}-"
    numbers = ServiceTicket.objects.filter(number__startswith=prefix).values_list(
        "number", flat=True
    )
    highest = max((int(number.rsplit("-", 1)[1]) for number in numbers), default=0)

    result = call("svc1", "open_service_ticket", TICKET, confirmed=True)

    assert result.data["number"] == f"{prefix}{highest + 1:04d}"


def test_open_ticket_records_an_expired_warranty():
    params = {"serial_no": "LX20250007", "complaint": "焊缝发黑"}

    result = call("svc1", "open_service_ticket", params, confirmed=True, language="en")

    ticket = ServiceTicket.objects.get(number=result.data["number"])
    assert ticket.warranty_status_at_open == "out_of_warranty"
    assert "Out of warranty" in render(result, "en")


def test_open_ticket_refuses_a_machine_that_is_not_at_a_customer():
    serial = SerialNumber.objects.filter(customer__isnull=True).first()

    result = call("svc1", "open_service_ticket", {"serial_no": serial.serial, "complaint": "x y"})

    assert result.status == "error"
    assert "needs a customer" in result.message


def test_open_ticket_offers_close_serials_for_an_unknown_one():
    result = call("svc1", "open_service_ticket", {"serial_no": "LX2026001", "complaint": "报警"})

    assert result.status == "invalid"
    assert "LX20260001" in result.candidates


def test_open_ticket_rejects_an_unknown_priority():
    result = call("svc1", "open_service_ticket", {**TICKET, "priority": "asap"})

    assert result.status == "invalid"
    assert "priority" in result.message and "urgent" in result.message


def test_open_ticket_is_denied_to_a_user_without_add_serviceticket():
    before = ServiceTicket.objects.count()

    result = call("sales1", "open_service_ticket", TICKET, confirmed=True)

    assert result.status == "denied"
    assert ServiceTicket.objects.count() == before
    assert log_of(result).status == "denied"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_open_ticket_gives_concurrent_requests_distinct_numbers(demo):
    threads_count = 6
    start = threading.Barrier(threads_count)
    numbers, errors = [], []

    def worker():
        try:
            start.wait()
            result = call("svc1", "open_service_ticket", TICKET, confirmed=True)
            assert result.status == "success", result.message
            numbers.append(result.data["number"])
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(numbers)) == threads_count
    assert ServiceTicket.objects.filter(number__in=numbers).count() == threads_count
