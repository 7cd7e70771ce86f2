import pytest
from django.db import IntegrityError, transaction

from apps.sales.models import Customer
from apps.service.models import ServiceTicket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    customer = Customer.objects.create(code="TEST-C1", name="Test customer")
    return ServiceTicket.objects.create(number="TEST-ST-1", customer=customer, complaint="异响")


def test_ticket_number_is_unique(ticket):
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceTicket.objects.create(number=ticket.number, customer=ticket.customer, complaint="x")


def test_a_new_ticket_is_an_open_normal_priority_repair(ticket):
    assert (ticket.status, ticket.priority, ticket.category) == ("open", "normal", "repair")


def test_waiting_tickets_count_as_open():
    assert "waiting_parts" in ServiceTicket.OPEN_STATUSES
    assert "waiting_customer" in ServiceTicket.OPEN_STATUSES
    assert "resolved" not in ServiceTicket.OPEN_STATUSES
