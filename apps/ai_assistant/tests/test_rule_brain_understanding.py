"""What staff mean, through the real MessageHandler and the demo company: every part of a
question answered, reads never staged as writes, product cards, defaults a colleague would
use, English read as Chinese is, questions without the usual keywords, follow-ups that keep
their subject, and free phrasing (issue #14)."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.ai_assistant.brain.rules import RuleBrain
from apps.ai_assistant.eval.runner import Outcome, run_case
from apps.ai_assistant.tools.lookup import resolve_item
from apps.ai_assistant.tools.registry import number
from apps.ai_assistant.tools.sales import period_dates, visible_orders
from apps.inventory.models import Item, StockLevel
from apps.purchasing.models import PurchaseOrder

pytestmark = pytest.mark.django_db


def ask(user: str, *turns: str) -> Outcome:
    """The last of these messages answered as `user` (the earlier ones first), rolled back."""
    case = {"id": "test", "user": user, "turns": list(turns), "expect": {"kind": "unknown"}}
    return run_case(case, RuleBrain())


def year_of(month: int) -> int:
    """The year of a month's first day said without a year: this year's, unless it is yet to
    come."""
    today = timezone.localdate()
    return today.year if date(today.year, month, 1) <= today else today.year - 1


def made(outcome: Outcome) -> list[tuple[str, dict]]:
    return [(tool, params) for tool, params, _status in outcome.calls]


def available(sku: str, warehouse: str) -> str:
    level = StockLevel.objects.get(item__sku=sku, warehouse__code=warehouse)
    return number(level.available_qty)


# --- 1. every part of a question, in the order asked ------------------------------------------


def test_a_stock_question_and_a_purchase_order_in_one_message_are_both_answered():
    outcome = ask("wh1", "保护镜在sz还有多少，另外PO-2026-0003什么时候到")
    assert made(outcome) == [
        ("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "sz"}),
        ("purchase_order_status", {"po": "PO-2026-0003"}),
    ]
    expected = PurchaseOrder.objects.get(number="PO-2026-0003").expected_date.isoformat()
    assert f"可用 {available('PW-D37-T7', 'sz')} pcs" in outcome.reply
    assert expected in outcome.reply
    assert outcome.reply.index("保护镜") < outcome.reply.index("PO-2026-0003")


@pytest.mark.parametrize(
    ("user", "text", "calls"),
    [
        (
            "sales1",
            "customer C007 and their orders",
            [
                ("customer_lookup", {"query": "C007"}),
                ("sales_order_status", {"customer": "C007"}),
            ],
        ),
        (
            "sales1",
            "LS-RC-3000 是什么 主仓有几个",
            [
                ("find_product", {"query": "LS-RC-3000"}),
                ("check_inventory_stock", {"item": "LS-RC-3000", "warehouse": "main"}),
            ],
        ),
        (
            "svc1",
            "LX20250007 过保了没，ST-2026-0002 现在谁在跟",
            [
                ("machine_warranty_lookup", {"serial_no": "LX20250007"}),
                ("service_ticket_status", {"ticket_no": "ST-2026-0002"}),
            ],
        ),
        (
            "admin",
            "SO-2026-0012 status, and reserve 10 NZ-S1.5 in main for it",
            [
                ("sales_order_status", {"order_no": "SO-2026-0012"}),
                (
                    "reserve_stock",
                    {
                        "item": "NZ-S1.5",
                        "qty": "10",
                        "warehouse": "main",
                        "sales_order": "SO-2026-0012",
                    },
                ),
            ],
        ),
    ],
)
def test_questions_of_different_kinds_in_one_message_are_each_answered(user, text, calls):
    assert made(ask(user, text)) == calls


def test_a_message_that_asks_one_thing_in_spaced_words_is_one_question():
    outcome = ask("wh1", "主仓 保护镜 库存 多少")
    assert made(outcome) == [("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "main"})]


def test_a_word_for_a_kind_of_item_in_a_list_is_every_item_of_that_kind():
    outcome = ask("wh1", "切割头和喷嘴在深圳仓各剩多少")
    assert made(outcome) == [
        ("check_inventory_stock", {"item": "CH-BT240S", "warehouse": "sz"}),
        ("check_inventory_stock", {"category": "nozzle", "warehouse": "sz"}),
    ]
    assert not StockLevel.objects.filter(item__category="nozzle", warehouse__code="sz").exists()
    assert "- sz 深圳仓：0，没有库存" in outcome.reply
    assert "sz 深圳仓 没有喷嘴的库存。" in outcome.reply
    assert "各仓库均为 0" not in outcome.reply


def test_every_item_of_a_kind_in_a_warehouse_is_listed_with_its_figures():
    outcome = ask("wh1", "保护镜和喷嘴 spare 各多少")
    assert made(outcome)[1] == (
        "check_inventory_stock",
        {"category": "nozzle", "warehouse": "spare"},
    )
    for sku in ("NZ-S1.0", "NZ-S1.5", "NZ-D2.0"):
        assert f"{sku} " in outcome.reply
    assert f"可用 {available('NZ-S1.0', 'spare')} pcs" in outcome.reply


# --- 2. a read is never taken for a write --------------------------------------------------


@pytest.mark.parametrize(
    ("user", "text", "read"),
    [
        ("svc1", "is there an open ticket for LX20260004", "service_ticket_status"),
        ("svc1", "LX20250003 最近有没有新的报修", "service_ticket_status"),
        ("svc1", "LX20260001 有开着的服务单吗", "service_ticket_status"),
        ("wh1", "reserved qty of NZ-S1.5 in main?", "check_inventory_stock"),
        ("wh1", "reserve了多少 CR-32", "check_inventory_stock"),
        ("sales1", "给永盛报过价没有", "sales_order_status"),
        ("sales2", "did we already quote Jinlu", "sales_order_status"),
        ("sales1", "万瓦切割机报价多少一台", "find_product"),
    ],
)
def test_a_question_with_a_verb_like_word_is_answered_and_nothing_is_staged(user, text, read):
    outcome = ask(user, text)
    assert [(tool, status) for tool, _params, status in outcome.calls] == [(read, "success")]
    assert "确认" not in outcome.reply and "confirm" not in outcome.reply


@pytest.mark.parametrize(
    ("user", "text", "write"),
    [
        ("svc1", "能帮我给LX20260004开个单吗 客户问为什么不出光", "open_service_ticket"),
        ("svc1", "LX20260004 报修 导轨异响", "open_service_ticket"),
        ("sales1", "能帮我预留5个保护镜吗 主仓", "reserve_stock"),
        ("sales1", "can you quote C001 1 LC-3015-6KW", "create_sales_quote"),
        ("sales1", "reserve 2 PW-D37-T7 in main for SO-2026-0001?", "reserve_stock"),
    ],
)
def test_an_imperative_still_stages_its_write_even_with_a_question_mark(user, text, write):
    outcome = ask(user, text)
    assert [(tool, status) for tool, _params, status in outcome.calls] == [(write, "staged")]


def test_a_ticket_order_keeps_the_complaint_without_the_polite_words_around_it():
    outcome = ask("svc1", "能帮我给LX20260004开个单吗 客户问为什么不出光")
    assert outcome.calls[0][1]["complaint"] == "客户问为什么不出光"


# --- 9. free phrasing: quotes by number, dates relative to today -----------------------------


@pytest.mark.parametrize(
    "text", ["QT-2026-0001 什么情况", "staus of QT-2026-0001", "Q T 2026 0001"]
)
def test_a_quote_number_is_asked_about_as_an_order_number_is(text):
    outcome = ask("sales1", text)
    assert made(outcome) == [("sales_order_status", {"order_no": "QT-2026-0001"})]
    assert "QT-2026-0001" in outcome.reply


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("上周的订单", "last_week"),
        ("orders this month", "this_month"),
        ("上个月的订单", "last_month"),
        ("orders from last week", "last_week"),
        ("今年恒通的订单", "this_year"),
    ],
)
def test_orders_of_a_period_said_relative_to_today(text, period):

    from apps.ai_assistant.tools.sales import period_dates

    outcome = ask("sales1", text)
    assert [(tool, params.get("period")) for tool, params in made(outcome)] == [
        ("sales_order_status", period)
    ]
    first, last = period_dates(period, timezone.localdate())
    assert first.isoformat() in outcome.reply and last.isoformat() in outcome.reply
    orders = visible_orders(get_user_model().objects.get(username="sales1")).filter(
        order_date__gte=first, order_date__lte=last
    )
    if "恒通" in text:
        orders = orders.filter(customer__code="C001")
    for order in orders[:5]:
        assert order.number in outcome.reply
    outside = visible_orders(get_user_model().objects.get(username="sales1")).exclude(
        order_date__gte=first, order_date__lte=last
    )
    for order in outside:
        assert order.number not in outcome.reply


def test_a_period_is_counted_from_today_weeks_from_monday():
    thursday = date(2026, 12, 3)
    assert period_dates("last_week", thursday) == (date(2026, 11, 23), date(2026, 11, 29))
    assert period_dates("this_week", thursday) == (date(2026, 11, 30), thursday)
    assert period_dates("last_month", thursday) == (date(2026, 11, 1), date(2026, 11, 30))
    assert period_dates("this_month", thursday) == (date(2026, 12, 1), thursday)
    assert period_dates("last_month", date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert period_dates("yesterday", thursday) == (date(2026, 12, 2), date(2026, 12, 2))
    assert period_dates("last_year", thursday) == (date(2025, 1, 1), date(2025, 12, 31))


# --- 8. follow-ups keep their subject ---------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "turns", "call"),
    [
        (
            "svc1",
            ["LX20260001 有哪些服务单", "那它在保修期吗"],
            ("machine_warranty_lookup", {"serial_no": "LX20260001"}),
        ),
        (
            "sales1",
            ["SO-2026-0001 什么状态", "那永盛那边呢"],
            ("sales_order_status", {"customer": "C007"}),
        ),
        # The subject the result showed: the ticket's machine, the customer's one order.
        (
            "svc1",
            ["ST-2026-0002 处理得怎么样", "这台机器还在保吗"],
            ("machine_warranty_lookup", {"serial_no": "LX20250007"}),
        ),
        (
            "sales1",
            ["永盛的订单", "那生产进度呢"],
            ("production_progress", {"sales_order": "SO-2026-0005"}),
        ),
        # A place in the list just offered.
        ("wh1", ["喷嘴还有多少", "第三个"], ("check_inventory_stock", {"item": "NZ-D2.0"})),
        (
            "wh1",
            ["nozzle stock in spare", "the second one"],
            ("check_inventory_stock", {"item": "NZ-D1.5", "warehouse": "spare"}),
        ),
        (
            "wh1",
            ["低库存报表", "只看喷嘴"],
            ("low_stock_report", {"category": "nozzle"}),
        ),
    ],
)
def test_a_follow_up_keeps_the_subject_of_the_turn_before(user, turns, call):
    assert made(ask(user, *turns)) == [call]


def test_the_place_chosen_is_the_place_shown_in_the_ask_back():
    asked = ask("wh1", "喷嘴还有多少")
    third = next(line for line in asked.reply.splitlines() if line.startswith("3. "))
    chosen = ask("wh1", "喷嘴还有多少", "第三个")
    assert third.split()[1] == made(chosen)[0][1]["item"]


# --- 7. questions without the rules' keywords ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("what are we running short of in main", ("low_stock_report", {"warehouse": "main"})),
        ("主仓有什么东西快不够了", ("low_stock_report", {"warehouse": "main"})),
        ("anything we need to order for spare?", ("low_stock_report", {"warehouse": "spare"})),
        ("聚焦镜补货哪天能到", ("purchase_order_status", {"item": "FL-D30-F125"})),
        ("保护镜的货什么时候能来", ("purchase_order_status", {"item": "PW-D37-T7"})),
        ("when will the PW-D37-T7 restock land", ("purchase_order_status", {"item": "PW-D37-T7"})),
    ],
)
def test_a_question_in_other_words_than_the_rules_is_understood(text, call):
    assert made(ask("wh1", text)) == [call]


def test_when_a_restock_arrives_is_answered_with_the_open_orders_dates():
    outcome = ask("wh1", "聚焦镜补货哪天能到")
    open_orders = PurchaseOrder.objects.filter(
        lines__item__sku="FL-D30-F125", status__in=PurchaseOrder.OPEN_STATUSES
    )
    assert open_orders.exists()
    for order in open_orders:
        assert order.number in outcome.reply
        assert order.expected_date.isoformat() in outcome.reply


@pytest.mark.parametrize(
    "text",
    [
        "3000瓦的激光器有几台",
        "3000W激光器有几台",
        "3千瓦激光器有几台",
        "3kw激光器有几台",
        "3 KW 激光器有几台",
    ],
)
def test_a_power_however_written_names_the_source_of_that_power(text):
    outcome = ask("wh1", text)
    assert made(outcome) == [("check_inventory_stock", {"item": "LS-RC-3000"})]
    assert f"可用 {available('LS-RC-3000', 'main')} pcs" in outcome.reply


# --- 3. "what is X" is the product card ------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "text", "sku"),
    [
        ("sales1", "LC-3015-6KW 是什么", "LC-3015-6KW"),
        ("svc1", "what exactly is SN-CAP", "SN-CAP"),
        ("wh1", "whats FL-D37-F150", "FL-D37-F150"),
        ("sales1", "how much is the 12kw raycus source", "LS-RC-12000"),
        ("sales2", "焊接机保修多久", "LW-1500-HH"),
    ],
)
def test_what_a_product_is_comes_as_its_card(user, text, sku):
    outcome = ask(user, text)
    assert made(outcome) == [("find_product", {"query": sku})]
    item = Item.objects.get(sku=sku)
    language = "zh" if any("\u4e00" <= char <= "\u9fff" for char in text) else "en"
    lines = outcome.reply.splitlines()
    assert lines[0].startswith(f"{sku} {item.name_zh if language == 'zh' else item.name}")
    assert f"{number(item.list_price)} {item.currency}/{item.stock_uom}" in outcome.reply
    unit = {"zh": f"单位：{item.stock_uom}", "en": f"unit: {item.stock_uom}"}[language]
    assert unit in outcome.reply
    if item.warranty_months:
        assert str(item.warranty_months) in lines[-1]


def test_a_product_card_shows_the_cost_only_to_who_may_see_it():
    item = Item.objects.get(sku="LC-3015-6KW")
    assert f"成本 {number(item.standard_cost)}" in ask("admin", "LC-3015-6KW 是什么").reply
    assert "成本" not in ask("sales1", "LC-3015-6KW 是什么").reply


def test_a_product_card_names_its_category_and_specs():
    reply = ask("sales1", "LC-3015-6KW 是什么").reply
    assert "类别：切割机" in reply and "功率 6000 W" in reply and "幅面 3000x1500 mm" in reply


@pytest.mark.parametrize(
    ("text", "sku"),
    [
        ("D37 F150的聚焦镜有没有", "FL-D37-F150"),
        ("do we have the 2kw handheld welder", "LW-2000-HH"),
    ],
)
def test_whether_we_have_one_item_is_its_stock(text, sku):
    assert made(ask("sales1", text)) == [("check_inventory_stock", {"item": sku})]


def test_whether_we_carry_a_kind_of_item_lists_the_products():
    outcome = ask("sales1", "有没有1.5的喷嘴")
    assert made(outcome)[0][0] == "find_product"
    assert "NZ-S1.5" in outcome.reply and "NZ-D1.5" in outcome.reply


# --- 5. English read as Chinese is; 9. typos, powers and sizes however written ---------------


@pytest.mark.parametrize(
    ("english", "chinese", "call"),
    [
        (
            "how many UV markers do we have",
            "紫外打标机还有几台",
            ("check_inventory_stock", {"item": "LM-UV5"}),
        ),
        (
            "fiber marker in main?",
            "光纤打标机主仓有几台",
            ("check_inventory_stock", {"item": "LM-F30", "warehouse": "main"}),
        ),
        (
            "single nozzle 1.5 in van1",
            "van1 单层喷嘴1.5 还有几个",
            ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "van1"}),
        ),
        (
            "double layer 1.2 nozzles, any left?",
            "双层1.2还有没有",
            ("check_inventory_stock", {"item": "NZ-D1.2"}),
        ),
        (
            "whats the warranty period on the 3015 cutter",
            "3015切割机保修多久",
            ("find_product", {"query": "LC-3015-6KW"}),
        ),
    ],
)
def test_english_names_the_same_record_as_chinese(english, chinese, call):
    assert made(ask("sales1", english)) == [call]
    assert made(ask("sales1", chinese)) == [call]


@pytest.mark.parametrize(
    ("english", "chinese", "sku"),
    [
        ("chiller stock", "冷水机库存", "CHL-3000"),
        ("cutting head stock", "切割头库存", "CH-BT240S"),
        ("focus lens stock", "聚焦镜库存", "FL-D30-F125"),
        ("laser source stock", "激光器库存", "LS-RC-3000"),
        ("ceramic ring stock", "陶瓷环库存", "CR-32"),
        ("cutting machine stock", "切割机库存", "LC-3015-6KW"),
        ("welder stock", "焊接机库存", "LW-1500-HH"),
    ],
)
def test_an_english_phrase_names_the_item_its_chinese_word_names_exactly(english, chinese, sku):
    """ "冷水机" is CHL-3000's own name and part of CHL-6000's: the Chinese word is CHL-3000,
    so "chiller" is too, through the brain and through the tools' own look-up (an LLM)."""
    call = ("check_inventory_stock", {"item": sku})
    assert made(ask("wh1", chinese)) == [call]
    assert made(ask("wh1", english)) == [call]
    assert resolve_item(english.removesuffix(" stock")).sku == sku


@pytest.mark.parametrize(
    ("english", "chinese", "candidates"),
    [
        ("nozzle stock", "喷嘴库存", {"NZ-D1.2", "NZ-D1.5", "NZ-D2.0", "NZ-S1.0", "NZ-S1.5"}),
        ("Raycus laser source stock", "锐科激光器库存", {"LS-RC-1500", "LS-RC-3000"}),
        ("lens stock", "镜片库存", {"CL-D30-F100", "FL-D30-F125"}),
    ],
)
def test_a_name_several_items_truly_share_is_asked_back_in_both_languages(
    english, chinese, candidates
):
    for text in (english, chinese):
        outcome = ask("wh1", text)
        assert made(outcome) == [], text
        assert all(sku in outcome.reply for sku in candidates), outcome.reply


@pytest.mark.parametrize(
    ("text", "call"),
    [
        (
            "protectve window in van1",
            ("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "van1"}),
        ),
        (
            "nozle 1.5 single in van1",
            ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "van1"}),
        ),
        (
            "how many focus lense D30 in main",
            ("check_inventory_stock", {"item": "FL-D30-F125", "warehouse": "main"}),
        ),
        ("chiler 6000 stock", ("check_inventory_stock", {"item": "CHL-6000"})),
    ],
)
def test_a_misspelt_word_of_an_items_name_is_read_as_that_word(text, call):
    assert made(ask("wh1", text)) == [call]


def test_an_everyday_word_is_not_respelt_into_an_items_word():
    # "later" is one letter off "layer" (of the nozzles' names): nothing about nozzles.
    outcome = ask("wh1", "PW-D37-T7 stock, I will check the rest later")
    assert made(outcome) == [("check_inventory_stock", {"item": "PW-D37-T7"})]


def test_an_ask_back_in_english_names_the_candidates_in_english():
    reply = ask("wh1", "nozzle stock in spare").reply
    assert "NZ-S1.5 Single-layer nozzle 1.5 mm" in reply
    assert "单层" not in reply


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        # "激光器" is LS-RC-3000's alias but also part of every source's name.
        ("锐科激光器有几个", {"LS-RC-1500", "LS-RC-3000", "LS-RC-12000"}),
        ("3kw的有货吗", {"LS-RC-3000", "CHL-3000"}),
    ],
)
def test_a_word_the_data_gives_one_item_but_staff_use_for_several_is_asked_back(text, candidates):
    outcome = ask("sales1", text)
    assert outcome.kind == "clarify" and not outcome.calls
    assert all(sku in outcome.reply for sku in candidates)


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("BLT641陶瓷环多少个", ("check_inventory_stock", {"item": "CR-28"})),
        ("tell me about the BLT641 head", ("find_product", {"query": "CH-BLT641"})),
        (
            "备件仓 单层 一点五 的喷嘴 还有多少",
            ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "spare"}),
        ),
        ("sz有没有货", ("check_inventory_stock", {"warehouse": "sz"})),
        (
            "main仓 NZ-S1.5 stock",
            ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "main"}),
        ),
        ("pw-d37t7 sz 多少", ("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "sz"})),
    ],
)
def test_free_phrasing_finds_the_record_meant(text, call):
    assert made(ask("wh1", text)) == [call]


# --- what the ERP cannot answer, and words said loosely --------------------------------------


@pytest.mark.parametrize(
    "text", ["帮我订张去深圳的机票", "帮我查下明天深圳天气", "what's the USD to CNY rate today"]
)
def test_a_city_or_a_what_is_that_names_nothing_of_the_erp_is_not_a_stock_question(text):
    outcome = ask("sales1", text)
    assert outcome.kind == "unknown" and not outcome.calls


@pytest.mark.parametrize("text", ["sz", "深圳仓呢", "spare warehouse stokc"])
def test_a_warehouse_alone_still_lists_its_stock(text):
    assert made(ask("wh1", text))[0][0] == "check_inventory_stock"


def test_a_misspelt_keyword_is_read_as_the_keyword_but_not_another_form_of_it():
    assert made(ask("wh1", "NZ-S1.5 stokc in main")) == [
        ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "main"})
    ]
    # "reserved" is not a misspelt "reserve": a question, nothing staged.
    assert made(ask("wh1", "reserved qty of NZ-S1.5 in main?")) == [
        ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "main"})
    ]


def test_how_far_a_customers_order_is_is_a_sales_question():
    assert made(ask("sales1", "创新精密的订单到哪一步了")) == [
        ("sales_order_status", {"customer": "C010"})
    ]


def test_a_lone_urgent_mark_makes_the_ticket_urgent():
    outcome = ask("svc1", "LX20260001 切割头撞了 开单 急")
    assert outcome.calls[0][1]["priority"] == "urgent"
    assert ask("svc1", "LX20260001 切割头撞了 开单 比较急").calls[0][1]["priority"] == "high"


# --- 4. defaults a colleague would use, said in the confirmation --------------------------


def test_a_reservation_without_a_warehouse_takes_the_only_one_with_enough_and_says_so():
    enough = [
        level.warehouse.code
        for level in StockLevel.objects.filter(item__sku="PW-D37-T7").select_related("warehouse")
        if level.available_qty >= 20
    ]
    assert enough == ["spare"]
    outcome = ask("sales2", "reserve 20 protective windows for SO-2026-0012")
    assert outcome.calls == [
        (
            "reserve_stock",
            {"item": "PW-D37-T7", "qty": "20", "warehouse": "spare", "sales_order": "SO-2026-0012"},
            "staged",
        )
    ]
    first, *rest = outcome.reply.splitlines()
    assert (
        first
        == "No warehouse given: only spare Spare parts warehouse has enough available, so that one."
    )
    assert f"available now {available('PW-D37-T7', 'spare')} pcs" in "\n".join(rest)


def test_the_warehouse_just_talked_about_is_the_default_when_it_has_enough():
    outcome = ask("wh1", "主仓库 保护镜 还有多少", "帮我预留5个")
    assert outcome.calls[0][1]["warehouse"] == "main"
    assert outcome.reply.startswith("没说仓库：按刚才说的 main 主仓库。")
    # 50 is more than main has: the only warehouse with enough, said so.
    more = ask("wh1", "主仓库 保护镜 还有多少", "预留50个保护镜")
    assert more.calls[0][1]["warehouse"] == "spare"
    assert more.reply.startswith("没说仓库：只有 spare 备件仓 有足够的可用库存")


def test_a_reservation_where_several_warehouses_have_enough_asks_which():
    outcome = ask("admin", "帮我预留2台冷水机")
    assert outcome.kind == "clarify" and not outcome.calls
    assert "仓库" in outcome.reply


# --- customers named by their city -----------------------------------------------------------


@pytest.mark.parametrize("text", ["苏州那家客户的订单", "orders for the Suzhou customer"])
def test_a_city_with_several_customers_asks_which_one(text):
    outcome = ask("sales1", text)
    assert outcome.kind == "clarify" and not outcome.calls
    assert "C001" in outcome.reply and "C022" in outcome.reply


def test_a_city_and_a_name_together_are_the_customer_both_fit():
    assert made(ask("sales1", "苏州恒通的订单")) == [("sales_order_status", {"customer": "C001"})]
    assert made(ask("sales1", "find customer Foshan Hongyuan")) == [
        ("customer_lookup", {"query": "C012"})
    ]


def test_a_city_that_names_a_warehouse_stays_the_warehouse():
    assert made(ask("wh1", "深圳有没有切割机"))[0][1].get("warehouse") == "sz"


def test_a_city_in_a_question_about_something_else_asks_nothing_about_customers():
    outcome = ask("sales1", "明天苏州天气怎么样")
    assert outcome.kind == "unknown" and not outcome.calls


# --- more of the same classes, in other words -----------------------------------------------


@pytest.mark.parametrize(
    ("user", "text", "calls"),
    [
        (
            "svc1",
            "LX20260003 保修状态 以及 ST-2026-0005 的进度",
            [
                ("machine_warranty_lookup", {"serial_no": "LX20260003"}),
                ("service_ticket_status", {"ticket_no": "ST-2026-0005"}),
            ],
        ),
        (
            "wh1",
            "保护镜 陶瓷环 聚焦镜 在van1各多少",
            [
                ("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "van1"}),
                ("check_inventory_stock", {"item": "CR-32", "warehouse": "van1"}),
                ("check_inventory_stock", {"item": "FL-D30-F125", "warehouse": "van1"}),
            ],
        ),
        (
            "sales1",
            "how many LS-MX-6000 in main and what's the list price",
            [
                ("check_inventory_stock", {"item": "LS-MX-6000", "warehouse": "main"}),
                ("find_product", {"query": "LS-MX-6000"}),
            ],
        ),
        ("sales1", "LM-F30 多少 price", [("find_product", {"query": "LM-F30"})]),
    ],
)
def test_parts_separated_only_by_spaces_or_joined_by_以及(user, text, calls):
    assert made(ask(user, text)) == calls


def test_a_bare_单_is_a_ticket_for_one_who_sees_tickets_not_orders():
    outcome = ask("svc1", "ST-2026-0003 什么情况", "这个客户还有别的单吗")
    assert made(outcome) == [("service_ticket_status", {"customer": "C006"})]


def test_a_quote_for_a_customer_not_named_asks_which_customer():
    outcome = ask("sales1", "给客户报价 2台焊接机")
    assert outcome.kind == "clarify" and not outcome.calls
    assert "客户" in outcome.reply


@pytest.mark.parametrize(
    ("user", "turns", "call"),
    [
        (
            "sales1",
            ["what is LM-F30", "how many in stock"],
            ("check_inventory_stock", {"item": "LM-F30"}),
        ),
        ("sales1", ["NZ-D2.0是干嘛用的"], ("find_product", {"query": "NZ-D2.0"})),
        ("prod1", ["聚焦镜还要等多久"], ("purchase_order_status", {"item": "FL-D30-F125"})),
    ],
)
def test_an_items_use_its_wait_and_its_stock_right_after_it(user, turns, call):
    assert made(ask(user, *turns)) == [call]


@pytest.mark.parametrize(
    ("user", "turns", "call"),
    [
        (
            "wh1",
            ["备件仓喷嘴都有多少"],
            ("check_inventory_stock", {"category": "nozzle", "warehouse": "spare"}),
        ),
        ("svc1", ["SN-CAP 是个啥"], ("find_product", {"query": "SN-CAP"})),
        ("prod1", ["are we out of anything"], ("low_stock_report", {"mode": "zero"})),
        ("wh1", ["陶瓷环在途多少"], ("purchase_order_status", {"item": "CR-32"})),
        ("wh1", ["新的PO有哪些"], ("purchase_order_status", {})),
        (
            "wh1",
            ["冷水机库存", "6000W那个在哪个仓"],
            ("check_inventory_stock", {"item": "CHL-6000"}),
        ),
        (
            "svc1",
            ["LX20260002 保修到哪天", "有没有开着的服务单"],
            ("service_ticket_status", {"serial_no": "LX20260002", "open_only": True}),
        ),
        (
            "svc1",
            ["tickets for Hengtong", "the first one's machine still under warranty?"],
            ("machine_warranty_lookup", {"serial_no": "LX20260001"}),
        ),
    ],
)
def test_the_kind_the_machine_and_the_list_of_the_last_answer_carry_over(user, turns, call):
    assert made(ask(user, *turns)) == [call]


@pytest.mark.parametrize(
    ("user", "text", "expected"),
    [
        ("sales1", "万瓦切割机的幅面多大", [("find_product", {"query": "LC-4020-12KW"})]),
        (
            "sales2",
            "上周金鹭的报价",
            [("sales_order_status", {"customer": "C020", "period": "last_week"})],
        ),
        ("wh1", "今天辛苦啦 谢谢", []),
    ],
)
def test_a_size_a_quote_spoken_of_and_thanks_with_a_greeting(user, text, expected):
    outcome = ask(user, text)
    assert made(outcome) == expected
    assert outcome.kind == ("tool" if expected else "thanks")


def test_a_quote_made_as_a_document_is_still_a_quote():
    outcome = ask("sales1", "恒通要100个保护镜和50个陶瓷环，出个报价单")
    assert [(tool, status) for tool, _params, status in outcome.calls] == [
        ("create_sales_quote", "staged")
    ]


@pytest.mark.parametrize(
    ("user", "turns", "call"),
    [
        (
            "sales1",
            ["NZ-S1.5 库存", "LS-RC-3000 是什么"],
            ("find_product", {"query": "LS-RC-3000"}),
        ),
        (
            "wh1",
            ["NZ-S1.5 库存", "备件仓都有啥"],
            ("check_inventory_stock", {"warehouse": "spare"}),
        ),
        (
            "wh1",
            ["NZ-S1.5 库存", "whats in the spare parts warehouse"],
            ("check_inventory_stock", {"warehouse": "spare"}),
        ),
        ("wh1", ["NZ-S1.5 库存", "在途的采购单有哪些"], ("purchase_order_status", {})),
        ("wh1", ["NZ-S1.5 库存", "open purchase orders"], ("purchase_order_status", {})),
        (
            "wh1",
            ["NZ-S1.5 库存", "备件仓喷嘴都有多少"],
            ("check_inventory_stock", {"category": "nozzle", "warehouse": "spare"}),
        ),
        ("svc1", ["LX20260001 保修", "my open tickets"], ("service_ticket_status", {})),
    ],
)
def test_a_new_question_after_another_is_not_taken_for_a_follow_up_of_it(user, turns, call):
    assert made(ask(user, *turns)) == [call]


# --- courtesy around a request changes nothing ------------------------------------------------


@pytest.mark.parametrize(
    ("user", "turns", "kind_of_answer"),
    [
        ("svc1", ["麻烦 LX20250012 以前报修过吗"], ("service_ticket_status", "success")),
        ("sales2", ["pls did we already quote Jinlu"], ("sales_order_status", "success")),
        ("sales1", ["pls what's CHL-6000"], ("find_product", "success")),
        ("wh1", ["reserved qty of NZ-S1.5 in main?, thanks"], ("check_inventory_stock", "success")),
        ("wh1", ["喷嘴还有多少", "第三个，谢谢"], ("check_inventory_stock", "success")),
        (
            "svc1",
            ["pls create ticket LX20260002 welding seam black, high priority"],
            ("open_service_ticket", "staged"),
        ),
        ("sales1", ["麻烦帮我预留5个保护镜 主仓"], ("reserve_stock", "staged")),
    ],
)
def test_courtesy_around_a_request_changes_nothing(user, turns, kind_of_answer):
    outcome = ask(user, *turns)
    assert [(tool, status) for tool, _params, status in outcome.calls] == [kind_of_answer]


def test_a_word_ending_like_a_courtesy_keeps_its_ending():
    outcome = ask("svc1", "create ticket LX20260002 welding seam black, high priority")
    assert outcome.calls[0][1]["complaint"] == "welding seam black"
    assert outcome.calls[0][1]["priority"] == "high"


def test_thanks_alone_is_still_thanks():
    outcome = ask("sales1", "谢谢")
    assert outcome.kind == "thanks" and not outcome.calls


@pytest.mark.parametrize(
    ("user", "text", "calls"),
    [
        (
            "svc1",
            "LX20260001 还在保吗有没有开着的单",
            [
                ("machine_warranty_lookup", {"serial_no": "LX20260001"}),
                ("service_ticket_status", {"serial_no": "LX20260001", "open_only": True}),
            ],
        ),
        (
            "sales1",
            "LS-RC-3000 是什么主仓有几个",
            [
                ("find_product", {"query": "LS-RC-3000"}),
                ("check_inventory_stock", {"item": "LS-RC-3000", "warehouse": "main"}),
            ],
        ),
        (
            "svc1",
            "LX20250003 保修还有东方电梯的客户信息",
            [
                ("machine_warranty_lookup", {"serial_no": "LX20250003"}),
                ("customer_lookup", {"query": "C006"}),
            ],
        ),
    ],
)
def test_questions_written_without_a_space_between_them_are_each_answered(user, text, calls):
    assert made(ask(user, text)) == calls


def test_a_priority_and_a_plea_inside_a_complaint_are_not_the_complaint():
    outcome = ask("svc1", "LX20250012 打标不清楚帮忙开单优先级高")
    assert outcome.calls[0][1]["complaint"] == "打标不清楚"
    assert outcome.calls[0][1]["priority"] == "high"


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "sales2",
            ["Jinlu's orders and their contact"],
            [
                ("sales_order_status", {"customer": "C020"}),
                ("customer_lookup", {"query": "C020"}),
            ],
        ),
        ("sales1", ["永盛那单锁库存了没"], [("sales_order_status", {"customer": "C007"})]),
        (
            "svc1",
            ["did someone open a ticket for LX20250003 already"],
            [("service_ticket_status", {"serial_no": "LX20250003"})],
        ),
        ("wh1", ["主仓哪些快用完了"], [("low_stock_report", {"warehouse": "main"})]),
        ("wh1", ["list everything that's at zero"], [("low_stock_report", {"mode": "zero"})]),
        ("wh1", ["anything coming from Hanli?"], [("purchase_order_status", {"supplier": "S004"})]),
        (
            "prod1",
            ["6000W激光器订了几台，什么时候到"],
            [("purchase_order_status", {"item": "LS-MX-6000"})],
        ),
        (
            "wh1",
            ["PO-2026-0002 status", "and the other one from Guangyun?"],
            [("purchase_order_status", {"supplier": "S003"})],
        ),
        (
            "sales1",
            ["今年恒通下了几单"],
            [("sales_order_status", {"customer": "C001", "period": "this_year"})],
        ),
        (
            "wh1",
            ["nozzel D2.0 in spare"],
            [("check_inventory_stock", {"item": "NZ-D2.0", "warehouse": "spare"})],
        ),
    ],
)
def test_a_fourth_look_at_the_same_classes(user, turns, calls):
    assert made(ask(user, *turns)) == calls


def test_a_reservation_put_aside_in_other_words_is_staged():
    outcome = ask("wh1", "put 2 CR-28 aside")
    assert outcome.calls == [
        ("reserve_stock", {"item": "CR-28", "qty": "2", "warehouse": "spare"}, "staged")
    ]


@pytest.mark.parametrize(
    ("turns", "call"),
    [
        # A record the last request's tool does not take, or a question of its own.
        (
            ["PO-2026-0003 到了没", "3000W锐科激光器 备件仓有吗"],
            ("check_inventory_stock", {"item": "LS-RC-3000", "warehouse": "spare"}),
        ),
        (
            ["低于补货点的", "CHL3000 主仓"],
            ("check_inventory_stock", {"item": "CHL-3000", "warehouse": "main"}),
        ),
        (
            ["切割头和喷嘴在深圳仓各剩多少", "NZ-S1.5 库存"],
            ("check_inventory_stock", {"item": "NZ-S1.5"}),
        ),
        (
            ["切割头和喷嘴在深圳仓各剩多少", "stock in sz"],
            ("check_inventory_stock", {"warehouse": "sz"}),
        ),
        # Going on with the last request: a new subject replaces the old one.
        (
            ["PO-2026-0003 到了没", "那聚焦镜的呢"],
            ("purchase_order_status", {"item": "FL-D30-F125"}),
        ),
        (["哪些要补货了", "只看备件仓"], ("low_stock_report", {"warehouse": "spare"})),
    ],
)
def test_a_follow_up_goes_on_with_the_last_request_only_when_it_says_nothing_else(turns, call):
    assert made(ask("wh1", *turns)) == [call]


def test_an_item_named_after_a_kind_replaces_the_kind():
    outcome = ask("wh1", "切割头和喷嘴在深圳仓各剩多少", "is NZ-S1.5 in spare or van1")
    assert made(outcome) == [
        ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "spare"}),
        ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "van1"}),
    ]


# --- a name no record has is said, never dropped -------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "said"),
    [
        ("鸿达那边的销售订单", "鸿达", "没有找到与“鸿达”匹配的客户。"),
        ("查一下鸿达公司的订单", "鸿达", "没有找到与“鸿达”匹配的客户。"),
        ("Hongda's orders", "hongda", "No customer matches “hongda”."),
    ],
)
def test_orders_of_a_customer_the_erp_does_not_have_say_so_instead_of_listing_all(text, name, said):
    outcome = ask("sales1", text)
    assert made(outcome) == [("sales_order_status", {"customer": name})]
    assert outcome.reply == said


@pytest.mark.parametrize(
    "text",
    [
        "我的订单",
        "上周的订单",
        "所有的订单",
        "逾期的订单",
        "金额最大的订单",
        "十一月的订单",
        "客户那边的订单",
        "orders from last week",
        "orders of mine",
    ],
)
def test_orders_without_a_customer_are_still_the_users_orders(text):
    (call,) = made(ask("sales1", text))
    assert call[0] == "sales_order_status" and "customer" not in call[1]


@pytest.mark.parametrize(
    ("user", "text", "said"),
    [
        ("sales1", "SO-2026-9999 到哪了", "没有找到销售订单“SO-2026-9999”。"),
        ("wh1", "PO-2026-9999 什么时候到", "没有找到采购订单“PO-2026-9999”。"),
        ("sales1", "在主仓库给SO-2026-0005预留5000个保护镜", "库存不足，无法预留 5000"),
        ("sales1", "SO-2026-9999 status", "No sales order “SO-2026-9999” found."),
    ],
)
def test_what_a_tool_refuses_is_said_in_the_users_language(user, text, said):
    assert said in ask(user, text).reply


# --- 8. a place in the list the last answer showed ------------------------------------------


@pytest.mark.parametrize(
    ("user", "turns", "call"),
    [
        ("sales1", ("上周的订单", "第二个"), ("sales_order_status", "order_no")),
        ("sales1", ("orders this month", "the second one"), ("sales_order_status", "order_no")),
        ("svc1", ("LX20260001 有哪些服务单", "第二个"), ("service_ticket_status", "ticket_no")),
        ("sales1", ("上周的订单", "第二个的客户电话"), ("customer_lookup", "query")),
        (
            "svc1",
            ("恒通的服务单", "第一个的机器还在保吗"),
            ("machine_warranty_lookup", "serial_no"),
        ),
    ],
)
def test_a_place_picks_the_record_the_last_answer_listed_there(user, turns, call):
    listed = ask(user, turns[0]).calls[0]
    outcome = ask(user, *turns)
    ((tool, params),) = made(outcome)
    assert (tool, list(params)) == (call[0], [call[1]])
    # The record is the one shown in that place, not the first one or a made-up one.
    assert params[call[1]] in outcome.reply
    assert listed[2] == "success"


def test_the_second_of_two_items_asked_about_is_the_second_named():
    outcome = ask("sales1", "LM-F30 和 LM-UV5 主仓还有几台", "the second one 多少钱")
    assert made(outcome) == [("find_product", {"query": "LM-UV5"})]


# --- phrasing met in a batch written apart from the rules (ids i14h-) -------------------------


@pytest.mark.parametrize(
    ("user", "text", "call"),
    [
        # What a customer said is context, not a second question.
        (
            "svc1",
            "LX20260003 还在保吗 客户说打标机有点问题",
            ("machine_warranty_lookup", {"serial_no": "LX20260003"}),
        ),
        # A quote's number names that quote: asked about, never a new one.
        (
            "sales2",
            "new quote QT-2026-0002 — approved yet?",
            ("sales_order_status", {"order_no": "QT-2026-0002"}),
        ),
        # What is still open on a machine is its tickets.
        (
            "svc1",
            "anything still open on LX20250012?",
            ("service_ticket_status", {"serial_no": "LX20250012", "open_only": True}),
        ),
        # A number in the plural, a hyphenated name.
        ("wh1", "ETA on the double-layer 1.2s?", ("purchase_order_status", {"item": "NZ-D1.2"})),
        # Orders that come in, asked by sales (who see no purchases).
        ("sales1", "any orders come in yesterday", ("sales_order_status", {"period": "yesterday"})),
        # A state only orders have.
        (
            "sales1",
            "anything cancelled this year?",
            ("sales_order_status", {"status": "cancelled", "period": "this_year"}),
        ),
        # A power written apart from its name; a number the default item lacks.
        (
            "sales2",
            "12000W 的 cutting machine 主仓 还有吗",
            ("check_inventory_stock", {"item": "LC-4020-12KW", "warehouse": "main"}),
        ),
        ("wh1", "hw many ceramic rngs 28mm r left", ("check_inventory_stock", {"item": "CR-28"})),
        ("wh1", "van1 有啥已经空了的", ("low_stock_report", {"warehouse": "van1", "mode": "zero"})),
        (
            "prod1",
            "LX20260025 这台 QC 过了没",
            ("production_progress", {"serial_no": "LX20260025"}),
        ),
        (
            "wh1",
            "below reorder point — chillers only",
            ("low_stock_report", {"category": "chiller"}),
        ),
    ],
)
def test_phrasing_from_a_batch_written_apart_from_the_rules(user, text, call):
    assert made(ask(user, text)) == [call]


def test_two_items_each_with_its_power_are_both_answered():
    assert made(ask("sales1", "3千瓦的冷水机和3千瓦的激光器 主仓都有几个")) == [
        ("check_inventory_stock", {"item": "CHL-3000", "warehouse": "main"}),
        ("check_inventory_stock", {"item": "LS-RC-3000", "warehouse": "main"}),
    ]


def test_a_purchase_word_still_makes_a_salespersons_question_a_refused_purchase_one():
    outcome = ask("sales1", "采购订单昨天到了没")
    assert [(tool, status) for tool, _params, status in outcome.calls] == [
        ("purchase_order_status", "denied")
    ]
    assert "采购" in outcome.reply


@pytest.mark.parametrize(
    ("text", "customer"),
    [("博远那单发了没", "C023"), ("浩宇的订单", "C031"), ("宏源那单还是草稿吗", "C012")],
)
def test_a_customer_is_named_by_the_words_after_its_city_and_district(text, customer):
    ((tool, params),) = made(ask("admin", text))
    assert (tool, params["customer"]) == ("sales_order_status", customer)


def test_an_item_in_the_purchase_order_just_shown_and_then_that_warehouse():
    turns = ["PO-2026-0003 什么时候到", "里面的陶瓷环是进哪个仓"]
    outcome = ask("wh1", *turns)
    assert made(outcome) == [("purchase_order_status", {"po": "PO-2026-0003", "item": "CR-32"})]
    assert "spare" in outcome.reply
    outcome = ask("wh1", *turns, "那个仓现在还有多少陶瓷环")
    assert made(outcome) == [("check_inventory_stock", {"item": "CR-32", "warehouse": "spare"})]


@pytest.mark.parametrize(
    ("user", "text", "skus", "warehouse"),
    [
        (
            "sales1",
            "any 12kw or 6kw cutters sitting in main?",
            ["LC-4020-12KW", "LC-3015-6KW"],
            "main",
        ),
        ("sales2", "1500W和2000W的手持焊 深圳各有几台", ["LW-1500-HH", "LW-2000-HH"], "sz"),
        (
            "prod1",
            "how many raycus 1500 and 12000 sources in main",
            ["LS-RC-1500", "LS-RC-12000"],
            "main",
        ),
    ],
)
def test_one_kind_with_several_powers_is_each_of_them(user, text, skus, warehouse):
    assert made(ask(user, text)) == [
        ("check_inventory_stock", {"item": sku, "warehouse": warehouse}) for sku in skus
    ]


@pytest.mark.parametrize(
    ("user", "text", "call"),
    [
        ("wh1", "深圳仓现在都放了些啥", ("check_inventory_stock", {"warehouse": "sz"})),
        (
            "svc1",
            "van1 里还有哪些 nozzle",
            ("check_inventory_stock", {"category": "nozzle", "warehouse": "van1"}),
        ),
        ("prod1", "CR-28 是配哪个 head 的", ("find_product", {"query": "CR-28"})),
        ("wh1", "NZ-D2.0 是单层还是双层的", ("find_product", {"query": "NZ-D2.0"})),
        ("sales1", "我这个月签了哪些单", ("sales_order_status", {"period": "this_month"})),
        ("sales2", "my orders from last month?", ("sales_order_status", {"period": "last_month"})),
        (
            "wh1",
            "when's the double 1.5 nozzle shipment due",
            ("purchase_order_status", {"item": "NZ-D1.5"}),
        ),
        (
            "sales1",
            "will the machine for SO-2026-0005 be finished on time",
            ("production_progress", {"sales_order": "SO-2026-0005"}),
        ),
        ("prod1", "锐科1500W的源还有在途的吗", ("purchase_order_status", {"item": "LS-RC-1500"})),
        (
            "sales1",
            "anything still in draft for Hongyuan furniture",
            ("sales_order_status", {"customer": "C012", "status": "draft"}),
        ),
    ],
)
def test_phrasing_from_a_second_batch_written_apart_from_the_rules(user, text, call):
    assert made(ask(user, text)) == [call]


def test_a_place_after_a_purchase_orders_lines_is_that_line_item():
    outcome = ask("wh1", "PO-2026-0002 到了没", "里面是哪些货", "第一个现在备件仓还剩多少")
    ((tool, params),) = made(outcome)
    assert tool == "check_inventory_stock" and params["warehouse"] == "spare"
    first_line = PurchaseOrder.objects.get(number="PO-2026-0002").lines.order_by("pk").first()
    assert params["item"] == first_line.item.sku


def test_the_word_beside_a_shared_code_picks_the_item_whose_name_holds_it():
    assert made(ask("wh1", "BLT641 头 main 还几个")) == [
        ("check_inventory_stock", {"item": "CH-BLT641", "warehouse": "main"})
    ]


def test_that_model_after_a_kind_talked_about_keeps_the_kind():
    outcome = ask("sales2", "冷水机主仓多少", "深圳呢", "6000W那款在深圳有吗")
    assert made(outcome) == [("check_inventory_stock", {"item": "CHL-6000", "warehouse": "sz"})]


def test_how_far_a_customers_machine_is_built():
    assert made(ask("prod1", "永盛的机器生产到哪一步了")) == [
        ("production_progress", {"customer": "C007"})
    ]


@pytest.mark.parametrize(
    ("user", "turns", "call"),
    [
        (
            "sales1",
            ["any laser sources in stock in main, all powers"],
            ("check_inventory_stock", {"category": "laser_source", "warehouse": "main"}),
        ),
        ("svc1", ["van1 上现在都装了哪些备件"], ("check_inventory_stock", {"warehouse": "van1"})),
        (
            "sales1",
            ["博远最近一周下了几单"],
            ("sales_order_status", {"customer": "C023", "period": "last_7_days"}),
        ),
        (
            "sales1",
            ["我名下现在有几张单在等发货又等开票的"],
            ("sales_order_status", {"status": "to_deliver_and_bill"}),
        ),
        (
            "sales2",
            ["anything from Zibo Xingye this week?"],
            ("sales_order_status", {"customer": "C037", "period": "this_week"}),
        ),
        (
            "wh1",
            ["has the MFSC-6000 order been approved yet"],
            ("purchase_order_status", {"item": "LS-MX-6000"}),
        ),
        (
            "prod1",
            ["anything open with Shanghai Jingqie?"],
            ("purchase_order_status", {"supplier": "S005"}),
        ),
        (
            "sales1",
            ["SO-2026-0010 那台停工的机器还做不做"],
            ("production_progress", {"sales_order": "SO-2026-0010"}),
        ),
        ("wh1", ["保护镜的补货单下了没"], ("purchase_order_status", {"item": "PW-D37-T7"})),
        (
            "sales1",
            ["国瑞机电的订单", "上个月的呢"],
            ("sales_order_status", {"customer": "C039", "period": "last_month"}),
        ),
        (
            "wh1",
            ["PO-2026-0008 还欠多少没到", "那里面的聚焦镜现在主仓有多少"],
            ("check_inventory_stock", {"item": "FL-D30-F125", "warehouse": "main"}),
        ),
        (
            "svc1",
            ["is LX20260003 still under cover", "who's the customer contact there"],
            ("customer_lookup", {"query": "C003"}),
        ),
    ],
)
def test_phrasing_from_a_third_batch_written_apart_from_the_rules(user, turns, call):
    assert made(ask(user, *turns)) == [call]


def test_a_salesperson_asking_a_customers_orders_without_the_permission_is_refused():
    outcome = ask("svc1", "晟泰最近下了什么单")
    assert [(tool, status) for tool, _params, status in outcome.calls] == [
        ("sales_order_status", "denied")
    ]


def test_the_price_of_one_asked_after_a_stock_question_is_that_items_card():
    assert made(ask("sales2", "打标机主仓有几台，多少钱一台")) == [
        ("check_inventory_stock", {"item": "LM-F30", "warehouse": "main"}),
        ("find_product", {"query": "LM-F30"}),
    ]


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "wh1",
            ["有没有哪种喷嘴已经一个都没有了"],
            [("low_stock_report", {"category": "nozzle", "mode": "zero"})],
        ),
        ("sales2", ["安装调试培训怎么收费"], [("find_product", {"query": "SV-INSTALL"})]),
        (
            "wh1",
            ["双层1.5 跟 单层1.0 备件仓分别多少"],
            [
                ("check_inventory_stock", {"item": "NZ-D1.5", "warehouse": "spare"}),
                ("check_inventory_stock", {"item": "NZ-S1.0", "warehouse": "spare"}),
            ],
        ),
        (
            "svc1",
            ["华鑫打标深度变浅那单，当时换了啥"],
            [("service_ticket_status", {"customer": "C008"})],
        ),
        (
            "prod1",
            ["LX20260024 跟 LX20260032 哪台进度快"],
            [
                ("production_progress", {"serial_no": "LX20260024"}),
                ("production_progress", {"serial_no": "LX20260032"}),
            ],
        ),
        ("sales1", ["LM-F30 多少钱", "那紫外的呢"], [("find_product", {"query": "LM-UV5"})]),
        (
            "wh1",
            ["show me the open POs", "just the ones from Guangyun"],
            [("purchase_order_status", {"supplier": "S003"})],
        ),
        (
            "svc1",
            ["didn't someone already raise a ticket for Hengtong's protective window problem?"],
            [("service_ticket_status", {"customer": "C001"})],
        ),
    ],
)
def test_phrasing_from_a_fourth_batch_written_apart_from_the_rules(user, turns, calls):
    assert made(ask(user, *turns)) == calls


def test_a_report_asked_by_someone_without_the_permission_is_refused():
    outcome = ask("sales2", "库存估值表导一份给我")
    assert [(tool, status) for tool, _params, status in outcome.calls] == [
        ("inventory_valuation_report", "denied")
    ]


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "sales1",
            ["LM-F30和LM-UV5 各多少钱"],
            [("find_product", {"query": "LM-F30"}), ("find_product", {"query": "LM-UV5"})],
        ),
        (
            "svc1",
            ["van1: how many 1.5 single nozzles n protective windows left"],
            [
                ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "van1"}),
                ("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "van1"}),
            ],
        ),
        (
            "sales1",
            ["got anything stuck on hold for my customers?"],
            [("sales_order_status", {"status": "on_hold"})],
        ),
        (
            "wh1",
            ["采购单2026-0003 周六能进仓不"],
            [("purchase_order_status", {"po": "PO-2026-0003"})],
        ),
        (
            "svc1",
            ["LX20260003 保修还有多久", "它报过几次修"],
            [("service_ticket_status", {"serial_no": "LX20260003"})],
        ),
        (
            "svc1",
            ["海洋船舶那台LX20260004是不是已经报过修了"],
            [("service_ticket_status", {"serial_no": "LX20260004"})],
        ),
        (
            "wh1",
            ["主仓保护镜那么少，有没有人已经下单补货了"],
            [("purchase_order_status", {"item": "PW-D37-T7"})],
        ),
    ],
)
def test_phrasing_from_a_fifth_batch_written_apart_from_the_rules(user, turns, calls):
    assert made(ask(user, *turns)) == calls


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "sales1",
            ["客户急要一台3015，深圳仓能直接发吗"],
            [("check_inventory_stock", {"item": "LC-3015-6KW", "warehouse": "sz"})],
        ),
        ("sales2", ["641自动调焦头 卖多少"], [("find_product", {"query": "CH-BLT641"})]),
        ("sales1", ["2kw手持焊 warranty 几个月"], [("find_product", {"query": "LW-2000-HH"})]),
        (
            "sales2",
            ["1500W焊接机 sz有没有，顺便报下2000W那款价格"],
            [
                ("check_inventory_stock", {"item": "LW-1500-HH", "warehouse": "sz"}),
                ("find_product", {"query": "LW-2000-HH"}),
            ],
        ),
        (
            "svc1",
            ["鑫和那台老焊机 LX20250007，保修状态和没关的单一起发我"],
            [
                ("machine_warranty_lookup", {"serial_no": "LX20250007"}),
                ("service_ticket_status", {"serial_no": "LX20250007", "open_only": True}),
            ],
        ),
        (
            "sales1",
            ["恒通那台3015 SO-2026-0001，生产计划几号完的"],
            [("production_progress", {"sales_order": "SO-2026-0001"})],
        ),
        (
            "wh1",
            ["备件仓的 stock valuation 发我下"],
            [("inventory_valuation_report", {"warehouses": ["spare"]})],
        ),  # fmt: skip
        (
            "wh1",
            ["生成补货计划", "算了，只要备件仓的"],
            [("reorder_plan", {"warehouses": ["spare"]})],
        ),  # fmt: skip
        (
            "admin",
            ["导出上月销售报表", "上季度的也来一份"],
            [("sales_report", {"period": "last_quarter"})],
        ),  # fmt: skip
        ("prod1", ["有没有哪个料库存已经清零了？"], [("low_stock_report", {"mode": "zero"})]),
        ("admin", ["有哪些订单被 hold 住了"], [("sales_order_status", {"status": "on_hold"})]),
        (
            "prod1",
            ["PO-2026-0008 到了多少", "这单里的聚焦镜现在库存多少"],
            [("check_inventory_stock", {"item": "FL-D30-F125"})],
        ),
        (
            "svc1",
            ["给LX20250007开个 repair 单：出光不稳定"],
            [("open_service_ticket", {"serial_no": "LX20250007", "complaint": "出光不稳定"})],
        ),
        (
            "sales1",
            ["what orders came in last weeek?"],
            [("sales_order_status", {"period": "last_week"})],
        ),  # fmt: skip
    ],
)
def test_phrasing_from_a_sixth_batch_written_apart_from_the_rules(user, turns, calls):
    assert made(ask(user, *turns)) == calls


def test_a_work_order_said_by_its_sequence_alone_is_this_years():
    year = timezone.localdate().year
    outcome = ask("prod1", "0005号工单停了多久了，原计划哪天完工")
    assert made(outcome) == [("production_progress", {"work_order": f"WO-{year}-0005"})]


def test_a_size_written_before_the_name_as_in_the_sku_narrows_it():
    outcome = ask("sales2", "SO-2026-0012 备件仓帮我锁5个D37聚焦镜")
    assert outcome.kind == "clarify" and not outcome.calls
    assert "FL-D37-F150" in outcome.reply and "FL-D37-F200" in outcome.reply
    assert "FL-D30-F125" not in outcome.reply


@pytest.mark.parametrize(
    ("user", "text", "kind"),
    [("wh1", "好的 谢啦", "thanks"), ("sales2", "你都能帮我查啥？", "help")],
)
def test_thanks_and_help_in_other_words(user, text, kind):
    assert ask(user, text).kind == kind


def test_draft_orders_from_a_plan_are_refused_to_who_may_not_buy():
    outcome = ask("prod1", "把补货计划J-7直接转成采购草稿单")
    assert [(tool, status) for tool, _params, status in outcome.calls] == [
        ("create_draft_purchase_orders", "denied")
    ]


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "sales2",
            ["深圳 stock 里有没有 LC-3015"],
            [("check_inventory_stock", {"item": "LC-3015-6KW", "warehouse": "sz"})],
        ),  # fmt: skip
        (
            "sales1",
            ["draft a quote for Hangzhou Dongfang: one 12kw cutter plus install"],
            [
                (
                    "create_sales_quote",
                    {
                        "customer": "C006",
                        "lines": [
                            {"item": "LC-4020-12KW", "qty": "1"},
                            {"item": "SV-INSTALL", "qty": "1"},
                        ],
                    },
                )
            ],
        ),
        (
            "sales2",
            ["客户问 SO-2026-0001 的货发出去没"],
            [("sales_order_status", {"order_no": "SO-2026-0001"})],
        ),  # fmt: skip
        (
            "sales2",
            ["鑫和最近有啥单", "只看上个月的"],
            [("sales_order_status", {"customer": "C004", "period": "last_month"})],
        ),  # fmt: skip
        (
            "svc1",
            ["ST-2026-0006 修好了吗", "那台打标机的AMC还有多久"],
            [("machine_warranty_lookup", {"serial_no": "LX20250012"})],
        ),  # fmt: skip
        (
            "prod1",
            ["准直镜还剩多少", "有没有 open PO 在补"],
            [("purchase_order_status", {"item": "CL-D30-F100"})],
        ),  # fmt: skip
    ],
)
def test_phrasing_from_a_sixth_batch_after_its_first_fixes(user, turns, calls):
    assert made(ask(user, *turns)) == calls


@pytest.mark.parametrize(
    ("text", "skus"),
    [
        ("一万二的还有没 主仓", ["LC-4020-12KW", "LS-RC-12000"]),  # a power said without its unit
        ("LS-RC 主仓有几个", ["LS-RC-12000", "LS-RC-1500", "LS-RC-3000"]),  # a SKU's head
    ],
)
def test_what_names_several_items_is_asked_back_listing_them(text, skus):
    outcome = ask("sales1", text)
    assert outcome.kind == "clarify" and not outcome.calls
    assert all(sku in outcome.reply for sku in skus)


def test_a_month_named_is_the_period_it_is_when_it_is_this_or_last_month():
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    outcome = ask("sales2", "鑫和最近有啥单", f"只看{last_month.month}月的")
    assert made(outcome) == [("sales_order_status", {"customer": "C004", "period": "last_month"})]


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "svc1",
            [
                "LX20260004 保修到什么时候",
                "给它开个维修单，优先级高，故障写“导轨异响加重，X轴抖动”",
            ],
            [
                (
                    "open_service_ticket",
                    {
                        "serial_no": "LX20260004",
                        "complaint": "导轨异响加重，X轴抖动",
                        "priority": "high",
                    },
                )
            ],
        ),
        (
            "sales1",
            ["LM-F30 打标机标价多少", "行，给无锡金宇报两台"],
            [
                (
                    "create_sales_quote",
                    {"customer": "C003", "lines": [{"item": "LM-F30", "qty": "2"}]},
                )
            ],
        ),  # fmt: skip
        (
            "sales2",
            ["SO-2026-0014 到哪一步了"],
            [("sales_order_status", {"order_no": "SO-2026-0014"})],
        ),  # fmt: skip
        (
            "svc1",
            ["恒通的 service tickets 都列一下", "只看没 close 的"],
            [("service_ticket_status", {"customer": "C001", "open_only": True})],
        ),  # fmt: skip
        (
            "svc1",
            ["恒通那边一共报过几次售后？单子都列出来我看看"],
            [("service_ticket_status", {"customer": "C001"})],
        ),  # fmt: skip
        (
            "prod1",
            ["WO-2026-0003 progress?", "what about 0004?"],
            [("production_progress", {"work_order": "WO-2026-0004"})],
        ),  # fmt: skip
        (
            "wh1",
            [
                "what's below reorder level in spare?",
                "the first one on that list, how many do we have across all warehouses?",
            ],
            [("check_inventory_stock", {"item": "CR-32"})],
        ),
        (
            "wh1",
            ["show me everything in the spare parts warehouse", "just the nozzles"],
            [("check_inventory_stock", {"warehouse": "spare", "category": "nozzle"})],
        ),  # fmt: skip
        (
            "wh1",
            ["what's below reorder level?", "only the ones that are completely out"],
            [("low_stock_report", {"mode": "zero"})],
        ),  # fmt: skip
        (
            "admin",
            ["stock valuation report for main please", "add the spare parts warehouse to it"],
            [("inventory_valuation_report", {"warehouses": ["main", "spare"]})],
        ),  # fmt: skip
        (
            "admin",
            ["sales report for last week", "换成 last 30 days 的"],
            [("sales_report", {"period": "last_30_days"})],
        ),  # fmt: skip
        (
            "sales1",
            ["sales report 要 2026-11-01 到 2026-11-15 这段的"],
            [("sales_report", {"start": "2026-11-01", "end": "2026-11-15"})],
        ),  # fmt: skip
        (
            "sales1",
            ["冷水机 CHL-3000 主仓还有几台", "那 6000W 的呢，main 也有吗?"],
            [("check_inventory_stock", {"item": "CHL-6000", "warehouse": "main"})],
        ),  # fmt: skip
        (
            "wh1",
            ["when are the double layer 1.2 nozzles due in? we're completely out"],
            [("purchase_order_status", {"item": "NZ-D1.2"})],
        ),  # fmt: skip
        (
            "svc1",
            ["准直镜焦距是多少来着？规格发我一下"],
            [("find_product", {"query": "CL-D30-F100"})],
        ),
    ],
)
def test_phrasing_from_a_seventh_batch_written_apart_from_the_rules(user, turns, calls):
    assert made(ask(user, *turns)) == calls


@pytest.mark.parametrize(
    ("user", "text", "calls"),
    [
        ("svc1", "BLT641 头用的 ceramic ring 是多大的", [("find_product", {"query": "CR-28"})]),
        ("sales1", "ceramic ring for the BLT641 多少钱", [("find_product", {"query": "CR-28"})]),
        (
            "sales1",
            "check stock of the F30 marker and the UV one",
            [
                ("check_inventory_stock", {"item": "LM-F30"}),
                ("check_inventory_stock", {"item": "LM-UV5"}),
            ],
        ),
    ],
)
def test_a_part_named_with_what_it_fits_and_items_joined_with_an_article(user, text, calls):
    assert made(ask(user, text)) == calls


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "svc1",
            ["LX20260002 开个 training 单：新员工要学焊接参数设置"],
            [
                (
                    "open_service_ticket",
                    {
                        "serial_no": "LX20260002",
                        "complaint": "新员工要学焊接参数设置",
                        "category": "training",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "svc1",
            ["new ticket for LX20250012, high priority. issue: marking is blurry"],
            [
                (
                    "open_service_ticket",
                    {
                        "serial_no": "LX20250012",
                        "complaint": "marking is blurry",
                        "priority": "high",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "admin",
            ["给 LX20250007 开个紧急维修单：焊缝有气孔"],
            [
                (
                    "open_service_ticket",
                    {
                        "serial_no": "LX20250007",
                        "complaint": "焊缝有气孔",
                        "priority": "urgent",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "svc1",
            ["LX20260003 的服务单", "再开一张培训单：客户换了操作员要重新培训"],
            [
                (
                    "open_service_ticket",
                    {
                        "serial_no": "LX20260003",
                        "complaint": "客户换了操作员要重新培训",
                        "category": "training",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "prod1",
            ["备件仓有哪些是0库存的"],
            [("low_stock_report", {"warehouse": "spare", "mode": "zero"})],
        ),  # fmt: skip
        (
            "prod1",
            ["Chuangxin's 12kW cutter, when is it planned to finish?"],
            [("production_progress", {"customer": "C010"})],
        ),  # fmt: skip
        (
            "svc1",
            ["CR-32 主仓有几个", "van 呢"],
            [("check_inventory_stock", {"item": "CR-32", "warehouse": "van1"})],
        ),  # fmt: skip
        (
            "svc1",
            ["1.5的喷嘴备件仓有多少", "单层的"],
            [("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "spare"})],
        ),  # fmt: skip
        (
            "wh1",
            ["how many nozzles in spare wh"],
            [("check_inventory_stock", {"category": "nozzle", "warehouse": "spare"})],
        ),  # fmt: skip
        (
            "sales1",
            ["C009 要报价 保护镜 两百个 + 陶瓷环五十个"],
            [
                (
                    "create_sales_quote",
                    {
                        "customer": "C009",
                        "lines": [
                            {"item": "PW-D37-T7", "qty": "200"},
                            {"item": "CR-32", "qty": "50"},
                        ],
                    },
                )
            ],
        ),  # fmt: skip
        (
            "sales1",
            ["need the sales report for last month, boss wants it today"],
            [("sales_report", {"period": "last_month"})],
        ),  # fmt: skip
        (
            "sales1",
            ["恒通的订单 and who owns the account"],
            [
                ("sales_order_status", {"customer": "C001"}),
                ("customer_lookup", {"query": "C001"}),
            ],
        ),  # fmt: skip
        (
            "wh1",
            ["whats low in spare, and whats totaly out everywhere"],
            [
                ("low_stock_report", {"warehouse": "spare"}),
                ("low_stock_report", {"mode": "zero"}),
            ],
        ),  # fmt: skip
        (
            "sales2",
            ["导出上月销售报表 顺便看下鑫和的订单"],
            [
                ("sales_report", {"period": "last_month"}),
                ("sales_order_status", {"customer": "C004"}),
            ],
        ),  # fmt: skip
        (
            "sales1",
            ["quote C005 one 6kw cutting machine", "actually add 2 more"],
            [
                (
                    "create_sales_quote",
                    {"customer": "C005", "lines": [{"item": "LC-3015-6KW", "qty": "3"}]},
                )
            ],
        ),  # fmt: skip
        (
            "sales1",
            ["quote Shenzhen Chuangxin 1 x 12kw cutter", "plus one installation"],
            [
                (
                    "create_sales_quote",
                    {
                        "customer": "C010",
                        "lines": [
                            {"item": "LC-4020-12KW", "qty": "1"},
                            {"item": "SV-INSTALL", "qty": "1"},
                        ],
                    },
                )
            ],
        ),  # fmt: skip
        (
            "sales1",
            ["在备件仓给SO-2026-0009留10个陶瓷环", "改成主仓"],
            [
                (
                    "reserve_stock",
                    {
                        "item": "CR-32",
                        "qty": "10",
                        "warehouse": "main",
                        "sales_order": "SO-2026-0009",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "sales2",
            ["reserve 20 protective windows in spare for SO-2026-0012", "make it 25"],
            [
                (
                    "reserve_stock",
                    {
                        "item": "PW-D37-T7",
                        "qty": "25",
                        "warehouse": "spare",
                        "sales_order": "SO-2026-0012",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "wh1",
            ["深圳仓有啥货", "第三个主仓有几台"],
            [("check_inventory_stock", {"item": "LW-1500-HH", "warehouse": "main"})],
        ),  # fmt: skip
        (
            "wh1",
            ["which items are out of stock", "when's it arriving"],
            [("purchase_order_status", {"item": "NZ-D1.2"})],
        ),  # fmt: skip
    ],
)
def test_phrasing_from_the_eighth_and_ninth_batches(user, turns, calls):
    assert made(ask(user, *turns)) == calls


@pytest.mark.parametrize(
    ("user", "text", "kind"),
    [
        ("admin", "帮我订张明天去宁波的 flight", "unknown"),
        ("sales1", "change the list price of NZ-S1.5 to 15", "unknown"),
        ("wh1", "morning!", "greeting"),
    ],
)
def test_errands_and_price_changes_are_not_looked_up(user, text, kind):
    outcome = ask(user, text)
    assert outcome.kind == kind and not outcome.calls


def test_a_brand_in_english_names_all_its_items_as_in_chinese():
    outcome = ask("sales1", "quote Wuhan Guanggu one Raycus source")
    assert outcome.kind == "clarify" and not outcome.calls
    assert all(sku in outcome.reply for sku in ["LS-RC-1500", "LS-RC-3000", "LS-RC-12000"])


@pytest.mark.parametrize(
    ("text", "call"),
    [
        (
            "备件仓 陶磁环28的 多少个",
            ("check_inventory_stock", {"item": "CR-28", "warehouse": "spare"}),
        ),
        ("保户镜主仓有几个", ("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "main"})),
    ],
)
def test_a_chinese_name_one_character_off_is_read_as_that_name(text, call):
    assert made(ask("wh1", text)) == [call]


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        ("wh1", ["po8到了没"], [("purchase_order_status", {"po": "PO-2026-0008"})]),
        ("sales2", ["so 12 status"], [("sales_order_status", {"order_no": "SO-2026-0012"})]),
        ("svc1", ["st-6 咋样了"], [("service_ticket_status", {"ticket_no": "ST-2026-0006"})]),
        (
            "svc1",
            ["20250007包修到期没"],
            [("machine_warranty_lookup", {"serial_no": "LX20250007"})],
        ),
        (
            "sales1",
            ["so5 so6 状态"],
            [
                ("sales_order_status", {"order_no": "SO-2026-0005"}),
                ("sales_order_status", {"order_no": "SO-2026-0006"}),
            ],
        ),  # fmt: skip
        (
            "prod1",
            ["wo3 进度", "下一个"],
            [("production_progress", {"work_order": "WO-2026-0004"})],
        ),
        ("sales2", ["so14 status", "n 13"], [("sales_order_status", {"order_no": "SO-2026-0013"})]),
        (
            "sales1",
            ["where is so 7", "its work order"],
            [("production_progress", {"sales_order": "SO-2026-0007"})],
        ),  # fmt: skip
        (
            "admin",
            ["whats below reorder main", "sz?"],
            [("low_stock_report", {"warehouse": "sz"})],
        ),  # fmt: skip
        ("wh1", ["补货计划 主仓", "全部仓库的"], [("reorder_plan", {})]),
        ("admin", ["sales rpt last week", "this yr"], [("sales_report", {"period": "this_year"})]),
        (
            "sales1",
            ["bt240s price", "报c017 2个"],
            [
                (
                    "create_sales_quote",
                    {"customer": "C017", "lines": [{"item": "CH-BT240S", "qty": "2"}]},
                )
            ],
        ),  # fmt: skip
        (
            "wh1",
            ["single nozzle 1.5 stock", "2.0的呢"],
            [("check_inventory_stock", {"item": "NZ-S2.0"})],
        ),  # fmt: skip
        (
            "wh1",
            ["陶瓷还 主仓还有几个"],
            [("check_inventory_stock", {"item": "CR-32", "warehouse": "main"})],
        ),  # fmt: skip
    ],
)
def test_phrasing_from_a_batch_of_short_and_sloppy_messages(user, turns, calls):
    assert made(ask(user, *turns)) == calls


def test_a_help_question_typed_loosely_is_help():
    assert ask("prod1", "wat can u do").kind == "help"


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "wh1",
            ["保护镜主仓还剩多少，哦不对，我要问的是深圳仓的"],
            [("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "sz"})],
        ),  # fmt: skip
        (
            "sales2",
            ["stock of the single-layer 1.5 nozzle, sorry, I meant the 2.0 one, single layer"],
            [("check_inventory_stock", {"item": "NZ-S2.0"})],
        ),
        (
            "sales1",
            ["给 C019 天津滨海出个 quote：LC-4020-12KW 一台，不对，两台"],
            [
                (
                    "create_sales_quote",
                    {"customer": "C019", "lines": [{"item": "LC-4020-12KW", "qty": "2"}]},
                )
            ],
        ),  # fmt: skip
        (
            "sales1",
            [
                "客户刚打电话来，说他们那台切割机想再配一台冷水机备用，你帮我看下主仓库冷水机还有几台"
            ],
            [("check_inventory_stock", {"item": "CHL-3000", "warehouse": "main"})],
        ),  # fmt: skip
        (
            "svc1",
            [
                "恒通周工刚来电话，LX20260001 又出问题了。"
                "帮我开个维修单，故障写：切割时报激光器温度过高，优先级加急"
            ],
            [
                (
                    "open_service_ticket",
                    {
                        "serial_no": "LX20260001",
                        "complaint": "切割时报激光器温度过高",
                        "priority": "urgent",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "wh1",
            [
                "The supplier rep is coming in on Thursday. "
                "Before that, run me a reorder plan for the main warehouse."
            ],
            [("reorder_plan", {"warehouses": ["main"]})],
        ),  # fmt: skip
        (
            "wh1",
            ["帮我在 spare 仓 reserve 5 个 CR-32 陶瓷环，reason 写：service van restock"],
            [
                (
                    "reserve_stock",
                    {
                        "item": "CR-32",
                        "qty": "5",
                        "warehouse": "spare",
                        "reason": "service van restock",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "sales1",
            ["在深圳仓给 SO-2026-0005 留一台冷水机，深圳那边应该还剩两台吧"],
            [
                (
                    "reserve_stock",
                    {
                        "item": "CHL-3000",
                        "qty": "1",
                        "warehouse": "sz",
                        "sales_order": "SO-2026-0005",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "admin",
            [
                "Three things:\n1. stock valuation for main\n2. sales report for last month\n"
                "3. what's below reorder level in spare"
            ],
            [
                ("inventory_valuation_report", {"warehouses": ["main"]}),
                ("sales_report", {"period": "last_month"}),
                ("low_stock_report", {"warehouse": "spare"}),
            ],
        ),  # fmt: skip
        (
            "sales2",
            ["FL-D30-F125 备件仓还有几片？顺便告诉我它的标价是多少"],
            [
                ("check_inventory_stock", {"item": "FL-D30-F125", "warehouse": "spare"}),
                ("find_product", {"query": "FL-D30-F125"}),
            ],
        ),  # fmt: skip
        (
            "sales1",
            ["C005 南通海洋的客户资料看一下，再给他们出一台 LC-3015-6KW 的报价"],
            [
                ("customer_lookup", {"query": "C005"}),
                (
                    "create_sales_quote",
                    {"customer": "C005", "lines": [{"item": "LC-3015-6KW", "qty": "1"}]},
                ),
            ],
        ),  # fmt: skip
        (
            "admin",
            ["Who's customer C013?", "what orders do they have", "just the ones on hold"],
            [("sales_order_status", {"customer": "C013", "status": "on_hold"})],
        ),  # fmt: skip
        (
            "prod1",
            ["where's PO-2026-0002 at?", "and what other open POs do we have with that supplier?"],
            [("purchase_order_status", {"supplier": "S003"})],
        ),  # fmt: skip
        (
            "sales1",
            ["SO-2026-0010 现在什么状态", "它的生产进度呢，机器做到哪了"],
            [("production_progress", {"sales_order": "SO-2026-0010"})],
        ),  # fmt: skip
        (
            "wh1",
            ["stock valuation report for main please", "same thing but just for the nozzles"],
            [("inventory_valuation_report", {"warehouses": ["main"], "category": "nozzle"})],
        ),  # fmt: skip
        (
            "admin",
            ["what's below reorder in main?", "and what's out of stock entirely, anywhere?"],
            [("low_stock_report", {"mode": "zero"})],
        ),  # fmt: skip
    ],
)
def test_phrasing_from_a_batch_of_long_and_messy_messages(user, turns, calls):
    assert made(ask(user, *turns)) == calls


@pytest.mark.parametrize(
    ("user", "turns", "kind"),
    [
        ("svc1", ["ST-2026-0002 现在谁在跟", "好的明白了，谢谢啦"], "thanks"),
        ("svc1", ["刚装上这个机器人，它到底能帮我查些什么东西？"], "help"),
        ("sales2", ["Good morning! First day back after the holiday :)"], "greeting"),
        ("sales1", ["帮我把SO-2026-0008的折扣从8%改成5%，客户那边已经同意了"], "unknown"),
    ],
)
def test_small_talk_help_and_changes_no_tool_makes_in_long_messages(user, turns, kind):
    outcome = ask(user, *turns)
    assert outcome.kind == kind and not outcome.calls


def test_a_greeting_before_a_request_still_answers_it():
    outcome = ask("guest1", "hey can u check PO-2026-0002 for me")
    assert [(tool, status) for tool, _params, status in outcome.calls] == [
        ("purchase_order_status", "denied")
    ]


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "sales1",
            ["Ningbo Yongsheng - customer info?", "any work orders running for them?"],
            [("production_progress", {"customer": "C007"})],
        ),  # fmt: skip
        (
            "sales2",
            ["LW-2000-HH 哪个仓有货", "行，主仓那台给我预留上"],
            [("reserve_stock", {"item": "LW-2000-HH", "qty": "1", "warehouse": "main"})],
        ),  # fmt: skip
        (
            "sales2",
            ["how many LW-2000-HH do we have", "what does it list at?"],
            [("find_product", {"query": "LW-2000-HH"})],
        ),  # fmt: skip
        (
            "svc1",
            ["刚接到金宇电话，LX20260003 开个维修单：打标软件打不开，提示加密狗错误"],
            [
                (
                    "open_service_ticket",
                    {
                        "serial_no": "LX20260003",
                        "complaint": "打标软件打不开，提示加密狗错误",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "admin",
            ["给我一份主仓和深圳仓的库存金额表"],
            [("inventory_valuation_report", {"warehouses": ["main", "sz"]})],
        ),  # fmt: skip
        (
            "admin",
            ["sales report from Nov 1 to Nov 15 please"],
            [
                (
                    "sales_report",
                    {"start": f"{year_of(11)}-11-01", "end": f"{year_of(11)}-11-15"},
                )
            ],
        ),  # fmt: skip
        (
            "admin",
            ["库存估值报表 main 仓", "再来一份只算 nozzle 的，全部仓库"],
            [("inventory_valuation_report", {"category": "nozzle"})],
        ),  # fmt: skip
        ("admin", ["YTD 的 sales report 导一份给我"], [("sales_report", {"period": "this_year"})]),
        (
            "wh1",
            ["Generate the reorder plan for all warehouses, I will raise the POs after"],
            [("reorder_plan", {})],
        ),  # fmt: skip
        (
            "admin",
            [
                "Raise an urgent repair ticket on LX20250003 - "
                "chiller alarm, machine stops every 10 min"
            ],
            [
                (
                    "open_service_ticket",
                    {
                        "serial_no": "LX20250003",
                        "complaint": "chiller alarm, machine stops every 10 min",
                        "priority": "urgent",
                    },
                )
            ],
        ),  # fmt: skip
        (
            "sales1",
            ["orders of Jinyu Electrical", "same for Huaxin"],
            [("sales_order_status", {"customer": "C008"})],
        ),  # fmt: skip
        (
            "svc1",
            ["tickets for C001", "only the open ones pls"],
            [("service_ticket_status", {"customer": "C001", "open_only": True})],
        ),  # fmt: skip
        (
            "sales1",
            ["LX20260004 warranty?", "pls pull up that customer's info"],
            [("customer_lookup", {"query": "C005"})],
        ),  # fmt: skip
        (
            "admin",
            ["open POs from Guangyun optics?", "Raycus side got any?"],
            [("purchase_order_status", {"supplier": "S001"})],
        ),  # fmt: skip
    ],
)
def test_phrasing_from_a_working_day_and_from_english_as_staff_write_it(user, turns, calls):
    assert made(ask(user, *turns)) == calls


@pytest.mark.parametrize(
    ("user", "text", "kind"),
    [
        ("sales2", "帮我订一张明天去成都的高铁票", "unknown"),
        ("wh1", "ok noted, cheers for the help", "thanks"),
        ("admin", "what kind of things can you help me with?", "help"),
    ],
)
def test_errands_thanks_and_help_as_staff_say_them(user, text, kind):
    outcome = ask(user, text)
    assert outcome.kind == kind and not outcome.calls


def test_a_kind_narrowed_by_a_size_in_the_plural_is_asked_back():
    outcome = ask("prod1", "how many D37 focus lenses in the spare warehouse?")
    assert outcome.kind == "clarify" and not outcome.calls
    assert "FL-D37-F150" in outcome.reply and "FL-D37-F200" in outcome.reply


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "sales2",
            ["厦门金鹭的郑总要3台2000W焊接机，麻烦先出个报价单草稿，价格就按标准价"],
            [
                (
                    "create_sales_quote",
                    {"customer": "C020", "lines": [{"item": "LW-2000-HH", "qty": "3"}]},
                )
            ],
        ),  # fmt: skip
        (
            "prod1",
            ["切割头库存", "BLT641那款呢"],
            [("check_inventory_stock", {"item": "CH-BLT641"})],
        ),
        (
            "admin",
            ["导出全部仓库的库存估值", "只要激光器这一类"],
            [("inventory_valuation_report", {"category": "laser_source"})],
        ),  # fmt: skip
    ],
)
def test_phrasing_from_the_last_batch_measured(user, turns, calls):
    assert made(ask(user, *turns)) == calls


@pytest.mark.parametrize(
    ("user", "turns", "calls"),
    [
        (
            "sales1",
            ["Tianhe Signage called about their sign cutter", "pull up their customer record"],
            [("customer_lookup", {"query": "C013"})],
        ),  # fmt: skip
        (
            "prod1",
            ["We're short on the 1.2 double-layer nozzles", "any open POs for them?"],
            [("purchase_order_status", {"item": "NZ-D1.2"})],
        ),  # fmt: skip
        (
            "sales1",
            ["C009 浦江厨房要个 quote", "3 台 1.5kW 手持焊接机"],
            [
                (
                    "create_sales_quote",
                    {"customer": "C009", "lines": [{"item": "LW-1500-HH", "qty": "3"}]},
                )
            ],
        ),  # fmt: skip
        (
            "admin",
            [
                "need some numbers for the board meeting",
                "sales report from 1 Sept to 15 Nov please",
            ],
            [
                (
                    "sales_report",
                    {"start": f"{year_of(9)}-09-01", "end": f"{year_of(9)}-11-15"},
                )
            ],
        ),  # fmt: skip
        (
            "sales1",
            ["what's sitting in the spare parts warehouse at the moment?"],
            [("check_inventory_stock", {"warehouse": "spare"})],
        ),  # fmt: skip
    ],
)
def test_records_told_in_one_message_are_the_subject_of_the_next(user, turns, calls):
    assert made(ask(user, *turns)) == calls
