"""The name index the rule brain finds records by: current after every save, in every process,
without a rebuild; the same terms whether kept by signals or rebuilt."""

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ai_assistant.brain import names
from apps.ai_assistant.brain.rules import RuleBrain
from apps.ai_assistant.brain.rules_entities import Vocabulary
from apps.ai_assistant.models import NameTerm
from apps.inventory.models import Item


def skus_named(text: str) -> list[str]:
    mentions = Vocabulary().extract(text).of("item")
    return mentions[0].values if mentions else []


def test_a_new_item_is_found_at_once_and_a_renamed_one_only_by_its_new_name(demo):
    item = Item.objects.create(
        sku="CH-NEW-01", name="Bevel cutting head", name_zh="坡口切割头", item_type="spare_part"
    )
    assert skus_named("坡口切割头 库存") == ["CH-NEW-01"]
    item.name_zh = "三维切割头"
    item.save()
    assert skus_named("三维切割头 库存") == ["CH-NEW-01"]
    assert "CH-NEW-01" not in skus_named("坡口切割头 库存")
    item.active = False
    item.save()
    assert "CH-NEW-01" not in skus_named("三维切割头 库存")
    item.delete()
    assert not NameTerm.objects.filter(kind="item", record_id=item.pk).exists()


def test_the_rebuilt_table_equals_the_one_kept_by_saves(demo):
    def rows():
        return sorted(NameTerm.objects.values_list("text", "kind", "value", "tier", "length"))

    kept = rows()
    call_command("index_names", verbosity=0)
    assert rows() == kept
    assert len(kept) > 100


def test_a_sentence_costs_two_index_reads_and_one_more_for_a_shared_word(demo):
    vocabulary = Vocabulary()
    with CaptureQueriesContext(connection) as queries:
        entities = vocabulary.extract("主仓库 单层喷嘴1.5 还有多少")
    assert len(queries) == 2  # which pieces are names; their records (all own names here)
    assert [(m.kind, m.values) for m in entities.mentions] == [
        ("warehouse", ["main"]),
        ("item", ["NZ-S1.5"]),
    ]
    with CaptureQueriesContext(connection) as queries:
        shared = vocabulary.extract("喷嘴还有多少").of("item")[0]
    assert len(queries) == 3  # "喷嘴" is only part of names: the items behind it are read
    assert {"NZ-S1.5", "NZ-D1.2"} <= set(shared.values)
    derived_only = {sku for sku in shared.values}
    assert derived_only == set(
        NameTerm.objects.filter(text="喷嘴", kind="item").values_list("value", flat=True)
    )


def test_a_typo_of_a_chinese_name_is_still_found(demo):
    understanding = RuleBrain().understand("保户镜还有多少", "zh")
    assert understanding.params.get("item") == "PW-D37-T7"


def test_long_names_are_not_indexed_and_bound_the_pieces(demo):
    long_name = "超长名称" * 20
    item = Item.objects.create(sku="XX-LONG", name="x", name_zh=long_name, item_type="spare_part")
    texts = NameTerm.objects.filter(record_id=item.pk, kind="item").values_list("text", flat=True)
    assert all(len(text) <= names.TERM_MAX_LENGTH for text in texts)


def test_a_document_number_past_9999_is_read(demo):
    entities = Vocabulary().extract("SO-2026-100001 状态")
    assert entities.numbers == {"SO": ["SO-2026-100001"]}


def test_powers_are_read_one_way_in_sentences_and_names():
    from apps.ai_assistant.brain.text import normalize

    written = ["3000W", "3000瓦", "3 kW", "3kw", "3千瓦", "三千瓦"]
    assert {normalize(text) for text in written} == {"3kw"}
    assert normalize("一万二千瓦的锐科激光器") == "12kw的锐科激光器"
    assert normalize("锐科1500W激光器") == "锐科1.5kw激光器"
    assert normalize("500W") == "500w" and normalize("万瓦切割机") == "万瓦切割机"


def test_a_power_names_the_machine_of_that_power(demo):
    understanding = RuleBrain().understand("6000瓦冷水机主仓几台", "zh")
    assert understanding.params == {"item": "CHL-6000", "warehouse": "main"}


def test_a_code_typed_loosely_names_its_item(demo):
    for typed in ["PW-D37T7 库存", "pw-d37-t7 库存", "how many NZ-D1,2 left"]:
        mentions = Vocabulary().extract(typed).of("item")
        assert [m.values for m in mentions][:1] in (
            [["PW-D37-T7"]],
            [["NZ-D1.2"]],
        ), typed


def test_an_item_named_only_by_its_power_and_kind(demo):
    brain = RuleBrain()
    assert brain.understand("put aside one 6kw cutter in sz", "en").params == {
        "item": "LC-3015-6KW",
        "qty": 1,
        "warehouse": "sz",
    }
    asked = brain.understand("6000W的还有几个", "zh")
    assert asked.kind == "clarify"
    assert {c.split()[0] for c in asked.candidates} >= {"LS-MX-6000", "CHL-6000"}


def test_serials_of_other_formats_and_with_a_letter_o_are_read(demo):
    from apps.inventory.models import SerialNumber

    other = SerialNumber.objects.exclude(serial__startswith="LX").values_list("serial", flat=True)
    serial = other.first()
    assert serial, "the demo company has serials of laser sources"
    assert Vocabulary().extract(f"{serial.lower()} 还保吗").serials == [serial]
    assert Vocabulary().extract("warranty for LX2026O001").serials == ["LX20260001"]


def test_english_names_are_indexed_as_staff_read_them(demo):
    def terms(sku: str) -> dict[str, int]:
        rows = NameTerm.objects.filter(kind="item", value=sku).values_list("text", "tier")
        return dict(rows)

    assert terms("LM-F30")["fiber marker"] == names.DERIVED  # "fiber marking machine"
    assert terms("NZ-S1.5")["single layer nozzle"] == names.DERIVED  # "Single-layer nozzle"
    assert terms("LM-UV5")["uv"] == names.DERIVED  # the acronym of its name
    assert terms("CH-BLT641")["blt641"] == names.DERIVED  # a model code in its name
    # "Ceramic ring 28 mm for BLT641 heads" is a ring, not a head.
    assert "blt641 head" not in terms("CR-28") and "head" not in terms("CR-28")
    # A general word names nothing alone but is kept for misspellings of it.
    assert terms("LM-F30")["machine"] == names.WORD
    assert Vocabulary().extract("machine stock").of("item") == []


def test_a_misspelt_word_is_compared_with_the_words_of_the_names(demo):
    assert "protective" in names.words_like("protectve")
    assert "lens" in names.words_like("lense")
    respelled = Vocabulary().respelled(Vocabulary().extract("protectve window"), lambda _: False)
    assert respelled == "protective window"
    assert (
        Vocabulary().respelled(Vocabulary().extract("protective window"), lambda _: False) is None
    )


def test_a_model_number_names_its_machine_and_a_power_names_nothing(demo):
    assert skus_named("3015 深圳有没有") == ["LC-3015-6KW"]
    assert skus_named("4020 标价") == ["LC-4020-12KW"]
    assert names.model_numbers(Item.objects.get(sku="CHL-3000")) == []  # "Chiller 3000 W"
    assert names.model_numbers(Item.objects.get(sku="LS-RC-12000")) == []  # "12 kW"
