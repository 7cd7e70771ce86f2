"""Concurrent posts to one item and warehouse must queue on the row lock, not lose updates."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.inventory.models import StockLevel, StockMove
from apps.inventory.services import post_stock_move
from apps.inventory.tests.factories import make_item, make_warehouse

THREADS = 8
ROUNDS = 10  # each round posts +2 then -1, so no thread can drive the stock negative


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_to_one_item_add_up_and_keep_the_ledger_in_sequence():
    item = make_item(sku="TEST-CONCURRENT")
    warehouse = make_warehouse(code="test-conc")
    start = threading.Barrier(THREADS)
    errors = []

    def worker():
        try:
            start.wait()
            for _ in range(ROUNDS):
                post_stock_move(item=item, warehouse=warehouse, qty=2, voucher_type="receipt")
                post_stock_move(item=item, warehouse=warehouse, qty=-1, voucher_type="delivery")
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    level = StockLevel.objects.get(item=item, warehouse=warehouse)
    assert level.actual_qty == THREADS * ROUNDS * (2 - 1)
    moves = list(StockMove.objects.filter(item=item, warehouse=warehouse).order_by("id"))
    assert len(moves) == THREADS * ROUNDS * 2
    running = Decimal("0")
    for move in moves:
        running += move.qty
        assert move.qty_after == running
    assert running == level.actual_qty
