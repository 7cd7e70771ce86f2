"""Service writes: opening an after-sales ticket for a machine, numbered ST-YYYY-NNNN."""

from __future__ import annotations

from typing import Any

from apps.inventory.models import SerialNumber
from better_laser_erp.numbering import create_numbered

from .models import ServiceTicket


class TicketError(ValueError):
    """The ticket cannot be opened as asked; the message says why and is safe to show."""


def check_machine_at_customer(serial: SerialNumber) -> None:
    """A ticket is for a machine a customer has; TicketError otherwise."""
    if serial.customer is None:
        raise TicketError(
            f"Machine {serial.serial} is not at a customer (status {serial.status}); "
            "a service ticket needs a customer."
        )


def open_ticket(
    *,
    serial: SerialNumber,
    complaint: str,
    category: str,
    priority: str,
    created_by: Any,
    channel: str = "",
) -> ServiceTicket:
    """A new ticket for the machine's customer, recording the warranty status at opening."""
    check_machine_at_customer(serial)
    return create_numbered(
        ServiceTicket,
        "ST",
        customer=serial.customer,
        serial=serial,
        item=serial.item,
        category=category,
        priority=priority,
        complaint=complaint,
        warranty_status_at_open=serial.warranty_status() or "",
        created_by=created_by,
        channel=channel,
    )
