"""Every registered tool offers a well-formed contract to the brain."""

import json

import pytest

from apps.ai_assistant.tools.registry import REGISTRY, load_tools

EXPECTED = {
    "find_product",
    "check_inventory_stock",
    "low_stock_report",
    "machine_warranty_lookup",
    "sales_order_status",
    "customer_lookup",
    "production_progress",
    "purchase_order_status",
    "service_ticket_status",
    "open_service_ticket",
    "reserve_stock",
    "create_sales_quote",
}
WRITES = {"open_service_ticket", "reserve_stock", "create_sales_quote"}

load_tools()


def test_all_erp_tools_are_registered():
    assert set(REGISTRY) >= EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tool_schema_is_a_json_object_that_forbids_unknown_parameters(name):
    schema = REGISTRY[name].json_schema()

    json.dumps(schema)
    parameters = schema["function"]["parameters"]
    assert schema["function"]["name"] == name
    assert parameters["type"] == "object"
    assert parameters["additionalProperties"] is False
    for field in parameters["properties"].values():
        assert field.get("description")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_only_the_write_tools_are_marked_as_writes(name):
    assert REGISTRY[name].write is (name in WRITES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tool_permission_names_an_existing_permission(name, db):
    from django.contrib.auth.models import Permission

    app_label, codename = REGISTRY[name].permission.split(".")
    assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists()
