"""The offline brain: keyword intents plus record extraction, in Chinese and English.

`understand` is pure parsing and record resolution (it reads the ERP's names, never runs a
tool). `respond` runs the chosen tool through `turn.call_tool`, so permissions, logging and
write confirmation stay in the registry, and words the result with `replies`.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from rapidfuzz.distance import OSA

from apps.ai_assistant import replies
from apps.ai_assistant.tools.registry import REGISTRY, get_tool, load_tools
from apps.inventory.models import Item, SerialNumber
from apps.production.models import WorkOrder

from . import names
from .base import BrainReply, BrainTurn, Understanding
from .clauses import split_clauses
from .declared import trigger_words
from .rules_entities import (
    CODE_TOKEN,
    Entities,
    Mention,
    Vocabulary,
    current_vocabulary,
    normalize,
    plain_number,
)
from .text import respelled

ASK_BACK_SHOWN = 8
# A question in more parts than this is answered for its first record only.
MAX_PARTS = 6
ITEM_TOOLS = {"check_inventory_stock", "find_product", "purchase_order_status"}
CUSTOMER_CODE = re.compile(r"C\d{3,}")
SUPPLIER_CODE = re.compile(r"S\d{3,}")
SKU_LIKE = re.compile(r"[A-Z0-9]+(?:[-.][A-Z0-9.]+)+")
# What production progress may be asked of, most precise first (context keys after).
PRODUCTION_SUBJECTS = (
    ("work_order", "work_order"), ("sales_order", "order_no"), ("serial_no", "serial_no")
)  # fmt: skip
BACK_REFERENCE = re.compile(
    r"它|这台|那台|这个|那个|该机|该单|这单|那单|他们|他家|这家|那家|\bit\b|\bthem\b|\btheir\b|"
    r"\bthey\b|\b(?:that|this|the same) customer\b|"
    r"\bthat one\b|this order|that order|"
    r"\bthis one\b|the machine|that machine"
)
ORDINAL = re.compile(
    r"第\s*([一二三四五六七八九十\d])\s*(?:个|台|张|单|条|项)?|"
    r"\bthe (first|second|third|fourth|fifth|last)\b|\b(1st|2nd|3rd|4th|5th)\b|(最后)一?个"
)
# What may stand around a place answering an ask-back: "第三个", "the second one please".
CHOICE_BY_PLACE = re.compile(
    r"[\s,，.。!！?]*(那|就|要|选|是)?[\s]*(吧|的|那个|这个|one|please|pls|i mean)?[\s,，.。!！?]*"
)
# A number said in the plural ("the double-layer 1.2s", "two 3000Ws"): the number itself.
NUMBER_PLURAL = re.compile(r"(?<![a-z0-9.\-])(\d+(?:\.\d+)?(?:kw|w|mm)?)s\b", re.IGNORECASE)
# "double-layer", "auto-focus": read as two words, as names are also indexed (not codes).
WORDS_HYPHENATED = re.compile(r"(?<=[a-z]{3})-(?=[a-z]{3})", re.IGNORECASE)
ORDINALS = {
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
}  # fmt: skip
# Two sizes or powers of one kind: "12kw or 6kw", "1.5kw和2kw", "1500 and 12000".
NUMBER_LIST = re.compile(
    r"(?<![a-z0-9.\-])(\d+(?:\.\d+)?)\s*(?:kw|w|mm)?\s*"
    r"(?:和|与|跟|或|或者|还有|、|/|,|，|\bor\b|\band\b)\s*"
    r"(\d+(?:\.\d+)?)\s*(?:kw|w|mm)?(?![\d.])"
)
SPEC_BEFORE = re.compile(r"\s*\d+(?:\.\d+)?\s*(?:kw|w|mm)?\s*的?\s*$")
SPEC_AFTER = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:kw|w|mm)?(?=\s*\S)")
# "the F30 marker and the UV one": an article after the conjunction joins as well.
CONJUNCTION = re.compile(
    r"\s*(和|与|跟|及|以及|、|,|，|/|&|或|或者|还有|and|or|plus|n)\s*(?:(?:the|a|an|our)\s+)?"
)
RANKED_AT_MOST = 200


def _containing_any(numbers: list[str]) -> Q:
    """Items whose names hold one of the numbers (has_number checks the edges after)."""
    condition = Q(pk__in=[])
    for number in numbers:
        condition |= Q(search_text__contains=number)
    return condition


def _any(*patterns: str) -> re.Pattern[str]:
    """One pattern of all. Word boundaries are ASCII ones: staff glue English to Chinese
    ("新的PO有哪些", "main仓"), and a Chinese character ends an English word."""
    return re.compile("|".join(f"(?a:{pattern})" for pattern in patterns))


# "刚装上这个机器人，它到底能帮我查些什么东西？": help asked at the end of a message.
HELP_ASKED = re.compile(
    r"(你|它|机器人|助手|bot)[^,，。]{0,6}(能|可以|会)(帮我)?(查|做|干|问)(些|点)?(什么|啥|哪些)(东西|事)?[?？!！\s]*$"
)
HELP = re.compile(
    r"^(/?help|/?帮助|帮助一下|菜单|menu|说明|使用说明|怎么用|如何使用|你能做什么|你会做什么|你会什么|"
    r"能干什么|能干啥|你能干啥|你能干嘛|这个怎么用|怎么用这个|有什么功能|"
    r"你?都?能(?:帮我)?(?:查|做|干|问)(?:些|点)?(?:啥|什么|哪些)(?:东西|事)?|"
    r"wh?at (else )?can (you|u) (actually |really |even )?do( for (me|us))?|what do you do|"
    r"how do i use (this|you)|"
    r"what (kind of |sort of )?(things|stuff) can (you|u) (help( me)?( with)?|do)|"
    r"commands?)[\s?？!！.。]*$"
)
GREETING = re.compile(
    r"^(你好|您好|你好呀|哈喽|嗨|hi|hello|hey|hi there|hello there|早|早上好|上午好|下午好|晚上好|"
    r"在吗|在不在|在么|good (morning|afternoon|evening)|morning|afternoon|evening|yo)"
    r"[\s,，!！~～.。?？呀啊啦]*"
    r"(bot|助手|小助手)?[\s,，!！~～.。?？呀啊啦]*$"
)
THANKS = re.compile(
    r"^((好的|好嘞|ok|okay|noted|got it|great|perfect|嗯|收到|行|好|明白了?|了解了?|知道了|今天|"
    r"今天也|这次)[\s,，]*)*"
    r"(谢谢|多谢|感谢|谢了|谢啦|辛苦了|辛苦啦|辛苦你了|辛苦|thx|thanks|thank you|ty|cheers)"
    r"[\s\w,，!！~～.。'’\u2600-\u27bf\U0001f300-\U0001faff]*$"
)
# A greeting that leads a message of small talk ("Good morning! First day back :)").
GREETING_FIRST = re.compile(
    r"^(你好|您好|哈喽|嗨|早上好|上午好|下午好|晚上好|hi|hello|hey|"
    r"good (morning|afternoon|evening)|morning)"
    r"[\s,，!！~～.。]+"
)
FOLLOW_UP = re.compile(
    r"^(那|那么|还有|再看看|再查|and|what about|how about|then|also)|呢|\bsame (?:for|with)\b|"
    r"\b(?:side|end)\b"
)

OPEN_TICKET = _any(
    r"报修|报个修|报一下修",
    r"(开|建|提|新建|创建|起|录|下)(一)?(个|张|条)?(新的)?(紧急|加急|急)?"
    r"(售后|服务|维修|保养|安装|培训|配件申请|配件|备件)?(服务单|维修单|售后单|工单|单子)",
    r"(开|建|提|新建|创建|起|录|下)(一)?(个|张|条)?(新的)?(紧急|加急|急)?"
    r"(售后|服务|维修|保养|安装|培训|配件申请|配件|备件)单",
    r"(开|建)单|新开(一)?(张|个)?单|(开|建|提)(一)?(个|张|条)(新的)?[\u4e00-\u9fff]{0,3}单",
    r"(open|opn|开)\s*个?\s*(ticket|tiket)\b(?!s)",
    r"(开|建|提|起|录)\s*(一)?(个|张|条)?\s*(repair|service|maintenance|after-?sales|training|"
    r"install(ation)?|parts?)\s*单",
    # An imperative: "open a ticket", "log a maintenance visit"; "any open tickets" is a read.
    r"\b(open|opn|create|log|raise|file)\s+(a|an|one|another|new|the)\s+(\w+\s+){0,2}"
    r"(ticket|tiket|visit|job)\b",
    r"\b(create|log|raise|file)\b.{0,20}\b(ticket|tiket)",
    r"^(please\s+)?(new|open)\s+(\w+\s+)?(ticket|tiket)\b(?!s)",
)
RESERVE = _any(
    r"预留|预定|锁定|锁库|锁一下|锁住|锁\d|占用|留(出|下|给)?\s*\d|留(出|下)?[一两二三四五六七八九十]",
    r"(锁|占)\s*[一两二三四五六七八九十\d]\s*(个|台|套|片|只|件)",
    r"\breserve|\breserv\b|\ballocate|(?<!on )\bhold\b|\bearmark|\block\b|"
    r"\b(put|set|keep)\b.{0,30}\baside\b",
)
# A quote spoken of as a document ("上周金鹭的报价", "金鹭的报价单"): a read.
QUOTE_AS_DOCUMENT = _any(
    r"的报价(?!\s*[一两二三四五六七八九十\d])|(?<![出做开建拉来个份张])报价单|上周|上个?月|本月|"
    r"这个?月|今年|去年|昨天",
    r"\b(last|this) (week|month|year)'?s?\b|\bquotes\b",
)
# A quote to make, said as "出一台 X 的报价" ("的报价" is otherwise one made before).
QUOTE_MADE = _any(
    r"(?<!新)(?:出|做|开|拉)\s*[一两二三四五六七八九十\d]*\s*[台个套份张]?[^,，。?？]{0,24}的报价(?!单)"
)
# A question, not an order: a write needs an imperative (orders_a_write).
QUESTION = _any(
    r"有没有|有无|是否|是不是|了没|没有?$|[吗么嘛呢]$|[开报锁留订]过|多少|几[个张次台件套条单片只]|"
    r"哪[个些张天里家]|什么|啥|怎么样|谁|状态|进度|到哪|情况|在不在",
    r"^(is|are|was|were|do|does|did|has|have|had|any|how|what|whats|what's|which|when|where|"
    r"who|whose|didn'?t|doesn'?t|don'?t|hasn'?t|haven'?t|isn'?t|wasn'?t|aren'?t)\b|\?$",
)
# A polite request to do something ("帮我预留", "能不能给LX…开个单", "can you quote"): an
# order even with 吗 or a question mark. Politeness around a question keeps it a question.
WRITE_VERB = r"(预留|锁|留|占|报价|报个价|出个价|开个|开张|开一|建个|新建|创建|报个修)(?![了过])"
POLITE_REQUEST = _any(
    rf"(帮我|帮忙|给我|能不能|能否|可不可以|可以|你能|麻烦你?)[^,，?？看查问瞧找]{{0,16}}{WRITE_VERB}",
    r"^(can|could|would|will) (you|u)\b(?! (check|show|tell|see|find|look|confirm|list))"
    r".{0,12}\b(reserve|reserv|hold|allocate|quote|open|create|log|raise|file|put aside|"
    r"set aside)\b",
)
# Words of courtesy around a request, which ask nothing ("pls …", "麻烦 …", "…，谢谢").
COURTESY_BEFORE = re.compile(
    r"^\s*(?:pls|plz|please|kindly|麻烦你?|请问|劳驾)(?:\s+|\s*[,，]\s*|(?=[^a-z]))"
)
COURTESY_AFTER = re.compile(
    r"[\s,，]*(?:谢谢|多谢|谢啦|谢了|(?<![a-z])(?:thanks|thank you|thx|ty|pls|please))"
    r"[\s!！.。~～]*$"
)
# A verb that starts the message orders it, unless 了/过 make it what was done ("reserve了多少").
IMPERATIVE_START = _any(
    r"^(预留|锁|留|占|报价|报个价|开个|开张|开一|建个|新建|创建|报(?=\s*c\d{3}))(?![了过])",
    r"^(reserve|reserv|hold|allocate|earmark|put aside|set aside|quote|open|create|log|raise|"
    r"file|new)\b(?!\s*[了过的])",
)
# An English question by its first word: never an order, whatever verb follows.
ASKED_IN_ENGLISH = re.compile(
    r"^(did|does|do|has|have|had|is|are|was|were|who|when|which|whether|any|"
    r"didn'?t|doesn'?t|don'?t|hasn'?t|haven'?t|isn'?t|wasn'?t|aren'?t)\b"
)
# Opening a ticket said in so many words ("开个单", "open a ticket"): an order even when the
# complaint in it asks something ("客户问为什么不出光").
TICKET_ORDERED = _any(
    r"(开|建|提|起|录|下|报)(一)?(个|张|条|一下)|新建|创建|新开",
    r"\b(open|opn|create|log|raise|file)\s+(a|an|one|another|new)\b",
)
# Changes the assistant has no tool for: said so, never answered with a look-up.
UNSUPPORTED_ACTION = _any(
    r"把.{0,20}(发货|发出去|取消|删掉|删除|关闭|关掉|审批|批了|批准)|^(请|帮我)?(批准|审批通过|删除|删掉)",
    r"^(please\s+)?(approve|cancel|delete|ship|close|reject)\s+(so|po|wo|st)-",
    # Changing master data, or errands no ERP runs ("帮我订张去宁波的机票").
    r"(改|调|修改|调整)(一下)?.{0,12}(标价|售价|价格)|订.{0,12}(机票|车票|火车票|高铁票|动车票|酒店|flight|hotel)|"
    r"把.{0,20}(折扣|单价|价格|交期|付款).{0,12}(改成|改为|调成|调到|调整为)",
    r"\b(change|update|set|modify|raise|lower)\b.{0,30}\b(list )?price\b.{0,20}\bto\b|"
    r"\bbook\b.{0,20}\b(flight|hotel|train|taxi)\b",
)
CATEGORY_MARK = re.compile(r"类|系列|这一类|those kinds?")
CATEGORY_OF_WORD = {
    "lenses": "lens", "nozzles": "nozzle", "protective windows": "protective_window",
    "cutting heads": "cutting_head", "chillers": "chiller", "laser sources": "laser_source",
    "sources": "laser_source", "lasers": "laser_source",
}  # fmt: skip
# "any lenses", "chillers only": a kind named in the plural is the kind, not one item of it.
CATEGORY_WORDS_EN = re.compile(r"\b(?:(?:any|all|the)\s+)?(" + "|".join(CATEGORY_OF_WORD) + r")\b")
KIND_ASKED_EN = re.compile(r"\b(?:any|all|which|what)\s+(" + "|".join(CATEGORY_OF_WORD) + r")\b")
# When a purchase arrives, even asked with a restocking word ("补货哪天能到").
PURCHASE_WHEN = _any(
    # "什么时候能来", "补货哪天能到", "什么时候补货到"; not "什么时候到期" (a warranty's end).
    r"(什么时候|啥时候|几时|哪天|何时|多久)[^,，。?？]{0,6}(到(?!期)|来|回来)|能到吗|没到|没来|到货时间|"
    r"要等多久|还要等|还得等|等多久",
    r"\bwhen\b.{0,50}\b(arrive|come in|coming|here|deliver|land|due|expected|back in stock)|"
    r"\beta\b|\bdue in\b",
)
# One's own work: a service engineer's tickets, a salesperson's orders.
MY_WORK = _any(
    r"我的单|我手上|我负责的|我跟的", r"\bmy (open )?(tickets?|jobs?|orders?)\b|on my plate"
)
MY_ORDERS = _any(r"我的订单|我的单子|我签的", r"\bmy (open )?orders?\b")
POWER_ASKED = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)kw")
POWER_NOUNS = [
    ("cutting_machine", _any(r"切割机", r"cutter|cutting machine")),
    ("laser_source", _any(r"激光器|激光源", r"\bsource|\blaser\b")),
    ("chiller", _any(r"冷水机", r"chiller")),
    ("welding_machine", _any(r"焊接机|焊机", r"welder")),
    ("marking_machine", _any(r"打标机", r"marker")),
]
QUOTE_ADD = _any(r"再加|加上|另加|再来", r"\badd\b|^plus\b")
QUOTE_CHANGE = _any(r"改成|改为|换成|变成|改到", r"change (it )?to|make it|\binstead\b")
# "add 2 more": more of the one line, not another item.
MORE_OF_IT = _any(r"再加\s*[一两二三四五六七八九十\d]+\s*[台个套片只件]?$", r"\b\d+ more\b")
# A record asked about in two ways: the other tools that take the same record.
SAME_SUBJECT = {
    "serial_no": [
        ("machine_warranty_lookup", "serial_no"),
        ("service_ticket_status", "serial_no"),
        ("production_progress", "serial_no"),
    ],
    "customer": [("sales_order_status", "customer"), ("service_ticket_status", "customer")],
    "item": [("check_inventory_stock", "item"), ("purchase_order_status", "item")],
    "order_no": [("production_progress", "sales_order")],
    "sales_order": [("sales_order_status", "order_no")],
}
PART_BREAK = re.compile(r"\s|[,，;；?？]|和|还有|以及|另外|\band\b|\balso\b")
# "预留了多少" / "how much is reserved": a question about stock, not a reservation.
RESERVED_QUESTION = _any(
    r"预留了多少|预留多少|预留了几|预留的有|留了多少|占用了多少",
    r"is reserved|are reserved|reserved (in|for|at)",
)
QUOTE = _any(
    r"报价|报个价|报一下价|出个价|做个价|报个单价|报[^,，。!！?？]{1,15}的价(?!格)|\bquot(e|ation)",
    r"给.{1,15}报\s*[一两二三四五六七八九十\d]\s*(个|台|套|片|只|件)|\bqoute|"
    # "报c017 2个": 报 a customer some of the item just talked about.
    r"^报\s*(?:c\d{3})?\s*[一两二三四五六七八九十\d]+\s*(个|台|套|片|只|件)",
    r"\bprice quote",
)
WARRANTY = _any(
    r"保修|包修|质保|保固|过保|在保|保内|保外|出保|维保|\bamc\b",
    r"\bwarrant|\bguarantee|\b(still )?covered\b|\bcoverage\b",
)
# "存为0": the "库" of "库存为0" may belong to a warehouse's name ("主仓库").
LOW_STOCK = _any(
    r"补货|缺货|断货|没货了|清零|归零|0库存|库存为0|库存是0|库存为零|库存不足|库存不够|低于|安全库存|低库存|快没了|快用完|要订货|需要采购|该采购|"
    r"要采购|需要下单|不足|快没货|没什么货|零库存|存为0|存为零|存是0|卖光|卖断|用完了|哪些没货|"
    r"什么没货|要补|补点|补一下|该补|见底|快不够|不太够|不够了|缺什么|缺啥|缺哪些|哪些不够|什么不够|"
    r"差什么|要订什么|该订什么|要买什么|(?<!快)空了|卖空|一[个件片台只]?[都也]没有?了?",
    r"\breorder|low stock|lo stock|low on\b|running low|run low|out of stock|stockout|stock-out|"
    r"zero stock|no stock|below (the )?(reorder|minimum|min|safety)|need(s)? (to be )?restock|"
    r"restock|short(age)?s?\b|top up|topped up|\bempty\b|"
    r"need(s)? to (be )?(order|bought|buy|purchase)|should (we )?(order|buy)|have to order|"
    r"running out|run out|ran out|out of anything|out of any\b|\bat zero\b|"
    r"\bwhat(?:'s|s| is)? (?:running )?low\b|\b(?:completely|totally|totaly|all|sold) out\b",
)
ZERO_STOCK = _any(
    r"断货|缺货|(?<!快)没货|零库存|清零|归零|存为0|存为零|存是0|卖光|卖断|(?<!快)用完了|0库存|(?<!快)空了|卖空|清空|"
    r"一[个件片台只]?[都也]没有?了?",
    r"out of stock|stockout|stock-out|zero stock|no stock|\bzero\b|\bempty\b|out of anything|"
    r"\b(?:completely|totally|totaly|all|sold) out\b|\bnone left\b|"
    r"\bran out\b|\brun out of\b",
)
# A ticket asked about, not one to open: "any open tickets", "开着的单有哪些".
TICKET_READ = _any(
    r"开着的单|未结|没结|哪些单|什么单|有没有.{0,6}单|单.{0,4}(派人|有人接|到哪|进度|状态)|"
    r"报修的(那个|那张)?单",
    r"\btickets\b|\b(any|show|list|see|check|view|my|all|which|what)\b.{0,25}\bticket",
)
PURCHASE = _any(
    r"采购|到货|来货|进货|供应商|交期|到了没|到没到|在途|订了|订购了|下了?采购|补货单|下单补货",
    r"come in\b|next delivery|delivery of|\bcoming\b|\bordered\b|\bshipment\b",
    r"\bpurchase|\bpo\b|\bpos\b|supplier|vendor|inbound|arriv|incoming|eta\b|on order",
    PURCHASE_WHEN.pattern,
)
# A part of the document just talked about: "里面的陶瓷环", "the ceramic rings on it".
IN_THAT_DOCUMENT = _any(
    r"里面的|里边的|里头的|[这那该]单里|单子里", r"\b(on|in) (it|that one|that po|this po)\b"
)
# The last list again, narrowed: "上个月的呢", "只看这周的", "just the drafts".
NARROWED_AGAIN = _any(r"呢|只看|只要|就看|光看", r"\bonly\b|\bjust\b|what about|how about|\band\b")
THAT_WAREHOUSE = _any(r"[那这该同]个?仓|同一个仓", r"\b(that|this|the same) (warehouse|wh)\b")
# Words that can only mean purchases (not "coming", "arrive": orders come in too).
PURCHASE_NAMED = _any(r"采购|供应商|进货|补货单|下单补货", r"\bpurchase|\bpos?\b|supplier|vendor")
PRODUCTION = _any(
    r"生产|排产|做到|做好|做完|装配|组装|产线|车间|下线|工序|完工|装到|开工|哪一步|到哪步|"
    r"(?<!服务)工单|质检|品检|出厂检|开始做|在做了|停工|复工|还做不做",
    r"production|work order|manufactur|assembl|\bbuilt\b|\bbuild\b|\bbuilding\b|\bwhich step|"
    r"\bwo\b|\bqc\b|quality check|\bpassed (the )?(qc|test|inspection)|"
    r"\b(be|get|got) (finished|built|done)\b|"
    r"\b(?:planned|due|going|scheduled|set) to (?:finish|be finished|be done|complete)\b",
)
PRODUCTION_NAMED = _any(
    r"生产|排产|装配|组装|产线|车间|工序|工单|完工|开工|下线",
    r"production|work order|manufactur|assembl|\bbuil[dt]",
)
PRODUCTION_TICKET = re.compile(r"工单")
# Tickets asked about as still open ("开着的单").
TICKET_READ_OPEN = re.compile(r"开着的|没关的|没结的|未结的")
# A "单" that may be any document ("别的单", "单子").
GENERIC_DOCUMENT = re.compile(r"单子|的单(?![号据])|张单|别的单|几单|[那这该]单")
# A machine's "单" other than a work order is a service ticket ("保养单派人了没").
SERIAL_TICKET = re.compile(r"(?<!工)单")
SERVICE = _any(
    r"服务单|售后单|维修单|报修|售后|维修|服务工单|投诉|故障单|工程师|保养单|安装单|培训单|派人|派了人|"
    r"派工程师|上门|当时换了|报过.{0,3}修|修过",
    r"ticket|service|repair|complaint|engineer",
)
SALES = _any(
    r"订单|销售单|合同|发货|交货|出货|发了没|发出|单子|的单(?![号据])|张单|报价单|报过价|报价了|给[^,，]{1,12}报过?价|的报价|几单|下单|下了?过?[几一两三\d]*单|下了?[什么哪些啥]+单|签了?[几哪些的]*单|签单|"
    r"[那这该]单|有(?:啥|什么|哪些)新?单",
    r"(?<!work )\border|\bshipped|\bship\b|shipping|deliver|dispatch|\bquot(e|ed|es|ation)s?\b",
)
# Where only a party's name stands in an orders question: "X那边的订单", "X公司的单子",
# "X's orders". A bare "X的订单" is not one: X is as often a filter ("逾期", "金额最大").
NAMED_OWNER = re.compile(
    r"([\u4e00-\u9fff]{2,12}?)(?:那边|那家|家|公司)的(?:销售)?(?:订单|单子)"
    r"|\b([a-z]{3,})'s (?:sales )?orders?\b"
)
OWNER_FILLER = re.compile(
    r"^(?:查一下|查一查|查下|查查|查|请问|帮我|帮忙|看一下|看看|给我|我想看|客户)+"
)
NOT_A_NAME = {
    "我们", "我的", "我们的", "所有", "全部", "最近", "他们", "他们家", "这家", "那家", "这个",
    "那个", "其他", "别的", "客户", "今天", "昨天", "all", "the", "their", "recent", "new",
    "customer", "today", "everyone",
}  # fmt: skip
CUSTOMER = _any(
    r"客户|顾客|联系人|联系方式|电话|谁跟的|谁负责的客户",
    r"customer|client|contact|\bwho owns?\b|\baccount (?:owner|manager)\b|\bowner\b",
)
FIND = _any(
    # "有没有X" alone asks for the product; "还有没有" / "有没有货" ask for stock.
    r"(?<!还)有没有(?!货)|有无|型号|规格|参数|产品|查找|搜索|搜一下|找一下|找找|多少钱|价格|售价|"
    r"单价|资料|卖多少|卖几[万千]|价位|报价多少|报价是多少|报多少|什么价|啥价|多少一[台个套片只]|一[台个套片只]多少",
    # "What is X" and its attributes want the product card, not the stock list.
    r"是什么|是啥|是个啥|是个什么|啥东西|什么东西|什么配件|什么产品|标价|焦距|螺纹|波长|功率|编码|尺寸|直径|"
    r"品牌|牌子|多重|重量|介绍|干嘛用|干什么用|做什么用|什么用|用途|用在哪|用来干|幅面|多大|多长|多宽|"
    r"多厚|多粗|行程|配哪|配什么|适配|适用于|是.{1,8}还是.{1,8}|怎么收费|收费|费用|区别|差别|不同",
    r"\bfind\b|\bsearch|look up|lookup|do we (sell|have|carry|make|offer)|\bprice|\bspecs?\b|"
    r"\bproducts?\b|\bcatalog|\blist price\b|\blists? at\b|\bused for\b|"
    r"\bwhat (is|are) (it|they) for\b|"
    r"\bwhat(?:'s|s)?(?:\s+(?:exactly|really))?\s+(?:is|are)\b|"
    r"\bwhats\b|\bwat is\b|\bwht is\b|^wh?at\b(?! about)|tell me about|"
    r"\bfits?\b|compatible|differen|\bcompare\b|"
    r"wavelength|focal|\bthread|\bbrand\b|dimension|diameter|\bpower\b|\bcost\b|\bhow big\b|"
    r"\bbed size|working area|\bsize of\b|"
    # "how much is the 12kw source" asks its price; "how much is left" its stock.
    r"\bhow much (?:is|are|does|do|would)\b(?!.*\b(?:left|in stock|available|remaining)\b)",
)
# What is left of "what's the list price" once its words are read: nothing named.
ATTRIBUTE_FILLER = re.compile(r"'s|\blist\b|\bits\b|\bit\b|那|这|个|它|\s")
# Words where a customer's name would stand that name none ("给客户报价"): ask which.
NO_CUSTOMER = re.compile(
    r"\s*(客户|顾客|这个客户|那个客户|这家|那家|他们|他|她|人家|对方|the customer|a customer|"
    r"them|him|her|the client|a client)\s*"
)
# The generic "what is …": a product question only when it names a product.
WHAT_IS = re.compile(
    r"\bwhat(?:'s|s)?(?:\s+(?:exactly|really))?\s+(?:is|are)\b|\bwhats\b|\bwat is\b|"
    r"^wh?at\b(?! about)|^wh?at'?s\b|是什么|是啥|是个啥|是个什么"
)
REPLENISHING = _any(r"在补|补它|补这个|补上了?吗", r"\b(?:restocking|replenishing) (?:it|that)\b")
# Every open purchase order asked for, not the last item's ("在途的采购单有哪些").
EVERY_ORDER = _any(
    r"有哪些|有什么|都有|所有|全部|清单|列一下|列出",
    r"\b(open|all|any|every|list)\b.{0,12}\b(purchase orders?|pos?)\b|\blist\b",
)
# Every item of a kind asked for at once ("喷嘴都有多少", "all the nozzles").
EVERY_ONE = _any(
    r"都有|都是|所有|全部|各种|每种|每个|都多少|哪些|哪几[种个款]",
    r"\ball\b|\bevery\b|\beach\b|\bwhich\b",
)
# What may stand around a warehouse asked about alone ("深圳仓那边呢", "and in the van").
PLACE_FILLER = _any(
    r"那边|这边|那里|这里|那儿|里面|里|上面|上|仓库|仓|库|那|这|呢|吧|怎么样|情况|如何|现在|目前",
    r"\b(and|in|at|the|about|what|how|now|then|there|over|please|pls|warehouse)\b",
)
# "有没有X" / "do we have X" of one item ask for its stock; of several, which we carry.
AVAILABILITY = _any(
    r"(?<!还)有没有(?!货)|有无", r"\bdo we (have|carry)\b|\bhave we got\b|\bgot any\b"
)
THAT_SUPPLIER = _any(
    r"[这那该]家供应商|该供应商|同一个?供应商", r"\b(?:that|this|the same) (?:supplier|vendor)\b"
)
THAT_ORDER = _any(r"[这那该]张?单", r"\b(?:this|that|the same) order\b")
# Between what a part fits and the part ("BLT641 头用的 陶瓷环"), or the other way round
# ("ceramic ring for the BLT641").
FITS_BEFORE = re.compile(r"^\s*(?:头|机|上)?(?:上)?(?:用的|配的|适配的|专用的|上的)\s*$")
FITS_AFTER = re.compile(r"^\s*(?:for|that fits?|fitting|to fit)(?: the| a| our)?\s*$")
# What staff tell before a request: calls, visits, problems that came up.
NARRATIVE = _any(
    r"刚[^,，]{0,6}(电话|打来|来了|说)|来电话|打电话来|打来电话|又出问题了|出问题了|想再配|想要|在线上|"
    r"过来了|要过来|下周来|明天来",
    r"\b(?:is|are) coming (?:in|over|by)\b|\bon the (?:line|phone)\b|\bjust called\b|"
    r"\bi(?:'ll| will)\b|"
    r"\bcalled (?:me|us)\b|\bis here\b|\bvisiting\b",
)
# What asks or orders: a question word or a verb of request.
ASKED_OR_ORDERED = _any(
    r"吗|呢|多少|几[个台片张套只件]|什么|啥|哪|谁|怎么|帮我|帮忙|给我|查|看下|看看|看一下|开个|开一|"
    r"预留|锁|留|报价|报个|出个|导出|发我|列一下|[?？]",
    r"\b(?:what|where|when|how|which|who|whether|is there|are there|do we|does|can you|could "
    r"you|please|pls|show|check|list|tell|open|reserve|quote|run|pull|send|give)\b",
)
# Words the user quoted: “…”, "…", 「…」.
QUOTED = re.compile(r"[“\"「『]([^“”\"「」『』]+)[”\"」』]")
# A machine pointed at, not a kind of product: "那台打标机", "this unit".
THAT_MACHINE = _any(r"[那这该]台", r"\b(?:that|this|the same) (?:machine|unit|one)\b")
# How long a product's warranty is ("焊接机保修多久"), not a machine's.
WARRANTY_TERM = _any(
    r"多久|多长|几年|几个月|期限|时长", r"how long|\bperiod\b|\bmonths\b|\byears\b"
)
STOCK = _any(
    r"库存|存货|现货|多少|几个(?!月)|几台|几片|几套|几只|几支|还剩|剩下|剩几|够不够|够用|有货|在库|货|盘点|数量|"
    r"放了些?[啥什么]|都放了|存了些?[啥什么]|都有些?[啥什么]|有哪些东西|装了[哪些啥什么]+|哪些备件",
    r"\bstock|inventory|how many|how much|\bqty\b|quantity|on hand|available|availability|"
    r"\bleft\b|\bcount\b|\blevels?\b",
)
WAREHOUSE_LIST = _any(
    r"有哪些|有什么|都有啥|都有什么|清单|明细|所有|全部",
    r"\blist\b|what's in|what is in|\bwhat in\b|everything|\bsitting in\b",
)
URGENT = _any(
    # "急" standing alone ("切割头撞了 开单 急") is a flag; "比较急" is only high.
    r"紧急|加急|特急|很急|急急|十万火急|停产|停机|马上|立刻|(?:^|[\s,，!！])急+(?:[\s,，!！。]|$)",
    r"urgent|asap|emergency|line down",
)
HIGH = _any(r"尽快|优先|高优先级|比较急|挺急|急", r"high priority|\bhigh\b|priority")
LOW_PRIORITY = _any(r"不急|不着急|有空|低优先级", r"low priority|not urgent|no rush")
CATEGORY_WORDS = [
    ("installation", _any(r"安装|装机", r"install")),
    ("training", _any(r"培训", r"training")),
    ("maintenance", _any(r"保养|维护|巡检", r"maintenance|maintain|service visit")),
    (
        "parts_request",
        _any(
            r"要配件|申请配件|寄配件|发配件|备件申请|配件申请|配件单|备件单",
            r"parts request|spare parts",
        ),
    ),
]
# A priority or a plea said inside a complaint's words.
PRIORITY_SAID = re.compile(
    r"(优先级\s*(高|低|中|普通|加急|紧急|急)|(高|低)优先级|帮忙|帮我)(?=[\u4e00-\u9fff]|$)|"
    r"(?<=[\u4e00-\u9fff])急$"
)
# Words around a complaint that are not part of it.
TICKET_NOISE = [
    OPEN_TICKET,
    _any(
        r"^(请|麻烦|帮忙|帮我|给我|帮|替|你|能不能|能否|可不可以|可以|能)+",
        r"^(please|pls|can you|could you)\s+",
    ),
    re.compile(r"^(给|为|对|的|它|这台机器|这台机|这台|客户(说|反映|反馈|那边说))+"),
    re.compile(r"^客户\s+"),
    re.compile(r"^((for )?the (first|second|third|fourth|last) one|第[一二三四五\d]个|最后一个)"),
    re.compile(r"^((for|on|the|machine|serial|sn|s/n|number)\b|no\.)\s*", re.I),
    re.compile(r"(一下|谢谢|吧|呗|哈|吗|thanks?|帮忙|帮我|帮|麻烦|请)$"),
    re.compile(
        r"^(紧急|加急|特急|很急|急|不急|尽快|优先|优先级(高|低|中)|(高|低)优先级|帮忙|帮我|"
        r"urgent|asap|high priority|low priority)$"
    ),
    re.compile(r"^(安装|培训|保养|维护|维修|repair|installation|training|maintenance)$"),
    re.compile(r"^(问题|故障|情况|原因|complaint|issue|problem)(是|为|:)?"),
]
# The tools this brain has rules of its own for; any other tool is understood from its
# declared examples (declared.py).
OWN_RULES = frozenset(
    {
        "check_inventory_stock",
        "low_stock_report",
        "machine_warranty_lookup",
        "sales_order_status",
        "customer_lookup",
        "production_progress",
        "purchase_order_status",
        "service_ticket_status",
        "find_product",
        "reserve_stock",
        "create_sales_quote",
        "open_service_ticket",
        "sales_report",
        "inventory_valuation_report",
        "reorder_plan",
        "create_draft_purchase_orders",
    }
)
DAY_WRITTEN = r"(20\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
DATE_RANGE = re.compile(
    rf"{DAY_WRITTEN}\s*(?:到|至|~|～|—|-|–|\bto\b|\buntil\b|\btill\b|\bthrough\b)\s*{DAY_WRITTEN}"
)
EN_MONTH = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
EN_DAY_RANGE = re.compile(
    rf"\b(?P<m1>{EN_MONTH})[a-z]*\.?\s*(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s*"
    rf"(?:-|–|~|\bto\b|\buntil\b|\btill\b|\bthrough\b)\s*"
    rf"(?:(?P<m2>{EN_MONTH})[a-z]*\.?\s*(?P<d2>\d{{1,2}})|(?P<d3>\d{{1,2}}))(?:st|nd|rd|th)?\b"
)
EN_DAY_FIRST_RANGE = re.compile(
    rf"\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{EN_MONTH})[a-z]*\.?\s*"
    rf"(?:-|–|~|\bto\b|\buntil\b|\btill\b|\bthrough\b)\s*"
    rf"(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{EN_MONTH})[a-z]*(?P<d3>)\b"
)
ZH_DAY_RANGE = re.compile(
    r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?\s*(?:到|至|-|~|～)\s*(?:(\d{1,2})\s*月)?\s*(\d{1,2})\s*[日号]"
)
# A calendar month by name, for a report of it ("11月销售报表", "sales report for November").
MONTH_ZH = re.compile(
    r"(?:(?P<year>20\d\d)\s*年\s*)?(?P<month>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*月(?!底|初)"
)
MONTH_NAMES_EN = [
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
]
# Whole month names or their usual abbreviations ("may" only with a year: it is a verb too).
MONTH_EN = re.compile(
    r"\b(?P<month>january|jan|february|feb|march|mar|april|apr|may(?=\s+20\d\d)|june|jun|"
    r"july|jul|august|aug|september|sept|sep|october|oct|november|nov|december|dec)\b"
    r"(?:\s+(?P<year>20\d\d))?"
)
ZH_MONTH_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _month_number(word: str) -> int:
    if word.isdigit():
        return int(word)
    if word.startswith("十"):
        return 10 + ZH_MONTH_NUMBERS.get(word[1:], 0)
    return ZH_MONTH_NUMBERS[word]


# A report asked for as a file, and which one (tools/reports.py).
REPORT = _any(
    r"报表|报告|导出|明细表|汇总表|统计表|估值表|表格|[出做列拉导][个一份张]?表|表导一?份|excel|xlsx",
    r"\breports?\b|\brpt\b|\bexport\b|spreadsheet|\bexcel\b|\bxlsx\b",
)
REORDER_PLAN = _any(
    r"补货计划|采购计划|采购建议|补货建议|订货计划|备货计划",
    r"re-?order plan|purchase plan|replenishment plan|what (should|to) (we )?(re)?order",
)
VALUATION = _any(
    r"估值|库存金额|库存价值|存货价值|库存总值|库存值多少钱|库存成本",
    r"valuation|stock value|inventory value|value of (the |our )?(stock|inventory)",
)
REPORT_TOOLS = ("sales_report", "inventory_valuation_report", "reorder_plan")
# The lists of one or several warehouses, and the parameter that says which.
WAREHOUSE_LISTS = {
    "low_stock_report": "warehouse",
    "inventory_valuation_report": "warehouses",
    "reorder_plan": "warehouses",
}
ALL_WAREHOUSES = _any(
    r"所有仓|全部仓|各仓|每个仓|各个仓|所有的仓",
    r"\ball (the )?warehouses\b|\beverywhere\b|\banywhere\b",
)
VALUATION_ALONE = _any(r"估值|库存金额|存货金额", r"valuation")
# Draft purchase orders from a reorder plan, named by its job ("把补货计划J-7转成采购草稿单").
PLAN_REFERENCE = re.compile(r"(?<![a-z0-9])j-?(\d+)(?![\d.])")
DRAFT_ORDERS = _any(
    r"采购草稿|草稿采购|草稿单|转成采购|转采购单|生成采购单|建采购单|下采购单",
    r"\bdraft (pos?|purchase orders?)\b|\b(make|create|raise) (the )?(pos|purchase orders)\b",
)
SALES_FIGURES = _any(r"销售|销量|业绩|营收|卖了多少", r"\bsales?\b|revenue|turnover")
DOCUMENT_PREFIX = {
    "sales_order": "SO",
    "purchase_order": "PO",
    "work_order": "WO",
    "service_ticket": "ST",
}
# "锁库存" is a reservation's word, not a stock question's.
STOCK_STRONG = re.compile(r"(?<![锁留占])库存|存货|现货|有货|\bstock|inventory|how many|on hand")
NUMBER = re.compile(r"(?<![a-z0-9.\-])[a-z]?(\d+(?:\.\d+)?)(?![\d])")
SKU_FRAGMENT = re.compile(r"(?<![a-z0-9.\-])([a-z]\d+(?:\.\d+)?)(?![\d])")
# Questions the ERP cannot answer ("激光器不出光怎么办"): not a stock query for the item named.
ADVICE = _any(r"怎么办|怎么修|怎么处理|如何|为什么|为啥|怎么回事", r"how (to|do i|can i)|\bwhy\b")
BARE_QTY = re.compile(r"(?<![a-z0-9.\-])(\d+)\s*$")
# Most specific first: "待发货和开票" before "待发货".
ORDER_STATUS_WORDS = [
    (
        "to_deliver_and_bill",
        _any(r"待发货和开票|待发货开票|[等待未没]发货.{0,4}[等待未没]开票", r"to deliver and bill"),
    ),
    ("pending_approval", _any(r"审批|待审|审核", r"approval")),
    (
        "to_deliver",
        _any(r"待发货|未发货|还没发货|没发货", r"to deliver|not (yet )?shipped|unshipped"),
    ),
    (
        "to_bill",
        _any(
            r"待开票|未开票|没开票",
            r"to bill|to be (billed|invoiced)|not (yet )?(billed|invoiced)|unbilled",
        ),
    ),
    ("draft", _any(r"草稿", r"\bdrafts?\b")),
    ("confirmed", _any(r"已确认|确认了的", r"\bconfirmed\b")),
    ("completed", _any(r"已完成|已经完成|完成了的", r"\bcompleted\b|\bfinished\b")),
    ("on_hold", _any(r"挂起|暂停|(?<![a-z])hold住", r"on hold|\bpaused\b|\bheld\b|\bhold\b")),
    ("cancelled", _any(r"取消", r"cancel+ed")),
    ("closed", _any(r"已关闭|关闭", r"\bclosed\b")),
]
# Dates said relative to today ("上周的订单", "orders this month"), as the tools take them.
PERIODS = [
    (
        "last_7_days",
        _any(
            r"(最近|近|过去)\s*(7|七)\s*天|一周内|(最近|近|过去)的?一(个)?(周|星期|礼拜)",
            r"\b(last|past) (7|seven) days?\b|\b(the )?past week\b",
        ),
    ),
    (
        "last_30_days",
        _any(
            r"(最近|近|过去)\s*(30|三十)\s*天|(最近|近)一个月",
            r"\b(last|past) (30|thirty) days?\b",
        ),
    ),
    ("this_quarter", _any(r"本季度?|这个?季度|当季", r"\bthis quarter")),
    ("last_quarter", _any(r"上个?季度|上季", r"\blast quarter")),
    ("today", _any(r"今天|今日", r"\btoday\b")),
    ("yesterday", _any(r"昨天|昨日", r"\byesterday\b")),
    ("this_week", _any(r"本周|这周|这个?星期|这个?礼拜", r"\bthis week")),
    ("last_week", _any(r"上周|上个?星期|上个?礼拜", r"\blast week")),
    ("this_month", _any(r"本月|这个?月|当月", r"\bthis month")),
    ("last_month", _any(r"上个?月", r"\blast month")),
    ("this_year", _any(r"今年|本年", r"\bthis (year|yr)\b|\bytd\b|\byear to date\b")),
    ("last_year", _any(r"去年", r"\blast (year|yr)\b")),
]
OPEN_ONLY = _any(
    r"未关|没关|[没未]\s*close|开着|未结|没结|未完成|没完成|未处理|没处理|在处理|处理中|进行中|未解决|没解决",
    r"\bopen\b(?! (a|an|the|one)\b)|\bthe open one\b|unresolved|outstanding|pending|"
    r"not (yet )?(closed|resolved|done)|in progress",
)
# Words that ask something of their own: a message with none of them after a request is a
# follow-up of that request ("LX20260032 呢").
INTENTS = (
    OPEN_TICKET, RESERVE, QUOTE, WARRANTY, LOW_STOCK, PURCHASE, PRODUCTION, SERVICE, SALES,
    CUSTOMER, FIND,
)  # fmt: skip
# Where a message asks for what each tool answers (for questions in several parts).
TOOL_WORDS = {
    "machine_warranty_lookup": WARRANTY,
    "service_ticket_status": re.compile(f"{TICKET_READ.pattern}|{SERVICE.pattern}"),
    "production_progress": PRODUCTION,
    "sales_order_status": re.compile(f"{SALES.pattern}|状态|(?<!做)到哪了|\\bstatus\\b"),
    "purchase_order_status": PURCHASE,
    "check_inventory_stock": STOCK,
}
# What makes a piece of a message a question of its own (clauses.py).
STATUS_ASKED = _any(
    r"状态|到哪|怎么样|什么情况|啥情况|进度|谁在跟|谁负责|几时|什么时候",
    r"\bstatus\b|\bwhere\b|\blate\b|\bwhen\b|\bwho\b",
)
CLAUSE_ASKS = (
    *INTENTS, STOCK, WAREHOUSE_LIST, TICKET_READ, PURCHASE_WHEN, MY_WORK, STATUS_ASKED, ADVICE,
    QUESTION, REPORT, REORDER_PLAN, VALUATION,
)  # fmt: skip
RECORD_CODE = re.compile(
    r"(?<![a-z0-9])(?:[a-z]{1,4}-?\d[a-z0-9.]*(?:-[a-z0-9.]+)*|l ?x\s*\d{8})(?![a-z0-9])"
)
# The English words the rules turn on, which staff misspell like any other ("stokc", "staus").
KEYWORDS = frozenset(
    {
        "stock", "status", "order", "orders", "warranty", "ticket", "tickets", "reserve",
        "quote", "price", "delivery", "deliver", "shipped", "purchase", "supplier", "customer",
        "available", "inventory", "production", "progress", "repair", "service", "engineer",
        "warehouse", "reorder", "restock", "shortage", "expired", "quantity", "arrive",
        "week", "month", "quarter", "today", "yesterday", "valuation", "report",
    }
)  # fmt: skip
# Everyday words one letter off a word of an item's name ("later" / "layer", "market" /
# "marker"): never respelt.
EVERYDAY_WORDS = {
    "later", "water", "market", "power", "other", "order", "there", "their", "where", "which",
    "about", "would", "could", "should", "still", "today", "again", "thing", "right", "check",
    "think", "hello", "maybe", "really", "exactly", "already", "please", "sales", "model",
    "level", "letter",
}  # fmt: skip
# Tools whose records are crossed dimensions (an item in a warehouse): a follow-up keeps the
# others. Any other tool's records are alternative subjects, one replacing another.
CROSSED_SLOTS = frozenset({"check_inventory_stock", "low_stock_report"})
# The words this brain's own rules react to: not distinctive enough to name another tool.
GRAMMAR = (
    HELP, GREETING, THANKS, OPEN_TICKET, RESERVE, QUOTE, WARRANTY, LOW_STOCK, PURCHASE,
    PRODUCTION, SERVICE, SALES, CUSTOMER, FIND, STOCK, WAREHOUSE_LIST, ADVICE,
)  # fmt: skip


class Ask(Exception):
    """Stop parsing: ask the user this (with these candidates)."""

    def __init__(self, question: str, candidates: list[str] | None = None, **partial: Any):
        super().__init__(question)
        self.question = question
        self.candidates = candidates or []
        self.partial = partial


class RuleBrain:
    """Understands staff requests by keywords and ERP names; offline and deterministic."""

    name = "rules"

    def understand(
        self,
        text: str,
        language: str,
        context: dict[str, Any] | None = None,
        available_tools: list | None = None,
    ) -> Understanding:
        """What the message asks for, with canonical parameters; runs no tool."""
        return self._parse(text, language, context or {}, available_tools)[0]

    def respond(self, turn: BrainTurn) -> BrainReply:
        understanding, updates = self._parse(
            turn.text, turn.language, turn.context or {}, turn.available_tools
        )
        kind = understanding.kind
        if kind == "tool":
            results = []
            for tool, params in [(understanding.tool, understanding.params), *understanding.more]:
                result = turn.call_tool(tool, params)
                results.append(result)
                # The records the user named are the subject even of a refused call
                # ("SO-2026-0014 到哪一步了" then "给这张单预留一台").
                if result.ok or result.status in ("staged", "denied"):
                    updates.update(remember(Understanding("tool", tool, params)))
                if result.ok:
                    updates.update(remember_result(result.tool, result.data))
                    shown = listed_in_result(result.tool, result.data)
                    updates["named"] = {**shown, **(updates.get("named") or {})}
            answers = [replies.render_result(r, turn.language) for r in results]
            return BrainReply(
                text="\n".join([*understanding.notes, "\n\n".join(answers)]),
                tool_results=results,
                context_updates=updates,
                kind="tool",
            )
        if kind == "clarify":
            return BrainReply(text=understanding.question, context_updates=updates, kind=kind)
        if kind == "help":
            text = replies.help_text(turn.language, turn.available_tools)
        elif kind == "greeting":
            text = replies.greeting(turn.language, turn.available_tools)
        elif kind == "thanks":
            text = replies.thanks(turn.language)
        else:
            kind, text = "unknown", replies.not_understood(turn.language, turn.available_tools)
            # What the message told is the subject of the next ("Tianhe Signage called about
            # their cutter" then "pull up their customer record").
            return BrainReply(text=text, kind=kind, context_updates=updates)
        return BrainReply(text=text, kind=kind)

    # -- parsing -----------------------------------------------------------------------------

    def _parse(
        self, text: str, language: str, context: dict[str, Any], tools: list | None
    ) -> tuple[Understanding, dict[str, Any]]:
        text = lines_as_clauses(text)
        text, reason = reason_said(text)
        text = corrected(text)
        text = without_courtesy(respelled(text, KEYWORDS))
        text = NUMBER_PLURAL.sub(r"\1", text)
        text = WORDS_HYPHENATED.sub(" ", text)
        text = numbered_by_its_kind(text)
        text = numbered_like_the_last(text, context)
        text = picked_from_list(text, context)
        plain = normalize(text)
        if not plain:
            return Understanding("unknown"), {}
        if HELP.match(plain) or HELP_ASKED.search(plain):
            return Understanding("help"), {}
        vocabulary = current_vocabulary()
        if GREETING_FIRST.match(plain) and self._small_talk(GREETING_FIRST.sub("", plain)):
            return Understanding("greeting"), {}  # "Good morning! First day back :)"
        reading = self._reading(text, language, context, tools, vocabulary)
        clauses = split_clauses(plain, _asks_something, RECORD_CODE.search, _asks_only)
        if len(clauses) > 1:
            in_clauses = self._clause_reading(clauses, language, context, tools, vocabulary)
            # A clause that only told what happened has no call of its own: the clauses'
            # reading then answers less than the whole one, and rightly.
            told = in_clauses and in_clauses[1].pop("told")
            if in_clauses and (told or _explains_more(in_clauses[0], reading[0])):
                reading = in_clauses
        understanding = reading[0]
        if reason and understanding.kind == "tool" and understanding.tool == "reserve_stock":
            understanding.params["reason"] = reason  # "reason 写：service van restock"
        return reading

    @staticmethod
    def _small_talk(text: str) -> bool:
        """Words that ask nothing and name no record ("First day back after the holiday")."""
        if _asks_something(text) or RECORD_CODE.search(text):
            return False
        found = current_vocabulary().extract(text)
        return not (found.mentions or found.numbers or found.serials)

    def _reading(
        self, text: str, language: str, context: dict[str, Any], tools: list | None, vocabulary
    ) -> tuple[Understanding, dict[str, Any]]:
        """The message read as one request (in several parts when it lists records)."""
        parser = _Parser(text, normalize(text), language, context, tools, vocabulary)
        try:
            understanding = parser.parse()
        except Ask as ask:
            return self._asked(ask, tools)
        if understanding.kind == "tool":
            parser.split_parts(understanding)
            # The records listed, for "第二个" / "the second one" next turn.
            # Records named beside the call's own stay the subject too ("Tianhe Signage called
            # about their sign cutter" answers the cutter's stock; "their record" is Tianhe's).
            told = parser.records_told()
            return understanding, {**told, "choices": [], "named": parser.lists()}
        if understanding.kind == "unknown":
            return understanding, parser.records_told()  # what it told, for the next message
        return understanding, {}

    def _clause_reading(
        self,
        clauses: list[str],
        language: str,
        context: dict[str, Any],
        tools: list | None,
        vocabulary,
    ) -> tuple[Understanding, dict[str, Any]] | None:
        """Each clause read as the next message of the conversation, or None when one of
        them is not a request (an ask-back, not understood) or more than one is a write (a
        reply confirms one action)."""
        running = dict(context)
        calls: list[tuple[str, dict[str, Any]]] = []
        notes: list[str] = []
        any_told = False
        for clause in clauses:
            told = _only_tells(clause)
            any_told = any_told or told
            understanding, _updates = self._reading(clause, language, running, tools, vocabulary)
            if understanding.kind in ("thanks", "greeting"):
                continue
            if understanding.kind != "tool":
                if told:
                    continue  # what happened, said before the request
                return None
            notes.extend(understanding.notes)
            for tool, params in _calls(understanding):
                if (tool, params) not in calls and not told:
                    calls.append((tool, params))
                # "LX20260001 又出问题了。帮我开个维修单": what was told is the subject.
                running.update(remember(Understanding("tool", tool, params)))
        if not calls or sum(1 for tool, _params in calls if get_tool(tool).write) > 1:
            return None
        if any(get_tool(tool).write for tool, _params in calls):
            # "…出个报价单草稿，价格就按标准价": words about the write, not a product search.
            calls = [call for call in calls if not _searches_leftover_words(call)] or calls
        (tool, params), *more = calls
        in_clauses = Understanding("tool", tool, params, more=more, notes=notes)
        return in_clauses, {"choices": [], "named": {}, "told": any_told}

    def _asked(self, ask: Ask, tools: list | None) -> tuple[Understanding, dict[str, Any]]:
        """An ask-back, unless it is for a tool the user may not use: then that tool's own
        refusal (the registry denies and logs it). Candidates are records, so they are only
        ever shown for a tool the user may use."""
        tool = ask.partial.get("tool")
        allowed = {t.name for t in tools} if tools is not None else None
        if allowed is not None and tool and tool not in allowed:
            return Understanding("tool", tool=tool, params={}), {}
        if ask.candidates and not tool:
            return Understanding("unknown"), {}
        updates: dict[str, Any] = {}
        if tool:
            updates = {
                "last_tool": tool,
                "last_params": ask.partial.get("params", {}),
                "choices": ask.partial.get("choices", []),
                "choice_slot": ask.partial.get("slot", ""),
            }
        clarify = Understanding("clarify", question=ask.question, candidates=ask.candidates)
        return clarify, updates


def without_courtesy(text: str) -> str:
    """The request without the courtesy around it, unless courtesy is all it says."""
    if THANKS.match(text.strip().lower()):
        return text  # "好的 谢啦": the thanks is the message
    bare = COURTESY_AFTER.sub("", COURTESY_BEFORE.sub("", text))
    return bare if bare.strip() else text


def _known_word(word: str) -> bool:
    """A word of this brain's grammar or an everyday one: never taken for a misspelt name."""
    return word in EVERYDAY_WORDS or any(pattern.search(word) for pattern in GRAMMAR)


def _asks_something(piece: str) -> bool:
    """Whether the words of a piece ask something ("wo" of WO-2026-0004 asks nothing)."""
    words = RECORD_CODE.sub(" ", piece)
    return any(asked.search(words) for asked in CLAUSE_ASKS)


def _searches_leftover_words(call: tuple[str, dict[str, Any]]) -> bool:
    """A product search by words that name no item (what was left of a clause)."""
    tool, params = call
    return tool == "find_product" and not SKU_LIKE.fullmatch(params.get("query") or "")


def _only_tells(clause: str) -> bool:
    """Whether a clause tells what happened ("恒通周工刚来电话", "the supplier rep is coming in
    on Thursday") and neither asks nor orders anything."""
    return bool(NARRATIVE.search(clause)) and not ASKED_OR_ORDERED.search(clause)


def _asks_only(piece: str) -> bool:
    """Whether a piece is nothing but words that ask ("price" in "LM-F30 多少 price")."""
    for asked in CLAUSE_ASKS:
        piece = asked.sub(" ", piece)
    return not re.search(r"[a-z0-9\u4e00-\u9fff]", piece)


def _calls(understanding: Understanding) -> list[tuple[str, dict[str, Any]]]:
    if understanding.kind != "tool":
        return []
    return [(understanding.tool, understanding.params), *understanding.more]


def _covers(call: tuple[str, dict[str, Any]], other: tuple[str, dict[str, Any]]) -> bool:
    """Whether `call` asks all that `other` asks: the same tool, the same records and more."""
    (tool, params), (other_tool, other_params) = call, other
    return tool == other_tool and all(
        params.get(key) == value for key, value in other_params.items()
    )


def _explains_more(in_clauses: Understanding, whole: Understanding) -> bool:
    """The clauses' reading is kept when it makes every call the whole message's reading
    made and some call that none of them covers."""
    parts, calls = _calls(in_clauses), _calls(whole)
    if len(calls) == 1 and _mixes_answers(calls[0], parts):
        # "whats low in spare, and whats totaly out everywhere": the whole reading mixes
        # the two questions' words into one (zero stock in spare).
        return True
    if not all(call in parts or _recombined(call, parts) for call in calls):
        return False
    return any(not any(_covers(call, part) for call in calls) for part in parts)


def _recombined(call: tuple[str, dict[str, Any]], parts: list[tuple[str, dict[str, Any]]]) -> bool:
    """The whole message's call mixes records its clauses ask different tools about
    ("1500W焊接机 sz有没有，顺便报下2000W那款价格": the whole reads one stock question of
    the 2 kW welder in sz): nothing of it is lost when the clauses, with more than one
    tool, name each of its records."""
    tool, params = call
    if len({tool for tool, _params in parts}) < 2:
        return False
    if not any(part_tool == tool and len(part) >= len(params) for part_tool, part in parts):
        return False
    return _named_in(call, parts)


def _mixes_answers(
    call: tuple[str, dict[str, Any]], parts: list[tuple[str, dict[str, Any]]]
) -> bool:
    """Whether the call is made of several clauses' calls of its tool that answer one thing
    differently (one clause below the reorder level, the other at zero)."""
    tool, params = call
    same = [part for part_tool, part in parts if part_tool == tool]
    if len(same) < 2 or len(same) != len(parts) or params in same or not _named_in(call, parts):
        return False
    keys = {key for part in same for key in part}
    return any(len({str(part.get(key)) for part in same if key in part}) > 1 for key in keys)


def _named_in(call: tuple[str, dict[str, Any]], parts: list[tuple[str, dict[str, Any]]]) -> bool:
    """Every value of the call is a value of some part (nothing of it is lost)."""
    named = {value for _tool, part in parts for value in _values(part)}
    return call[0] in {tool for tool, _params in parts} and _values(call[1]) <= named


def _values(params: dict[str, Any]) -> set[str]:
    """A call's values, those of a list each on its own (["main", "spare"])."""
    found = set()
    for value in params.values():
        found |= {str(one) for one in value} if isinstance(value, list) else {str(value)}
    return found


def _has_all(params: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(params.get(key) == value for key, value in wanted.items())


def _with(call: dict[str, Any], choice: dict[str, Any]) -> dict[str, Any]:
    """The call for another record: an item replaces a category and the other way round."""
    if "item" in choice or "category" in choice:
        call = {key: value for key, value in call.items() if key not in ("item", "category")}
    return {**call, **choice}


# The records a result shows: when it shows exactly one, what that one is linked to becomes
# the subject of a follow-up ("ST-2026-0002 …" then "这台机器还在保吗" is its machine).
RESULT_SUBJECTS = {
    "service_ticket_status": (
        "tickets",
        {"number": "ticket_no", "serial_no": "serial_no", "customer_code": "customer"},
    ),
    "sales_order_status": ("orders", {"number": "order_no", "customer_code": "customer"}),
    "production_progress": (
        "work_orders",
        {"number": "work_order", "sales_order": "order_no", "serial_no": "serial_no"},
    ),
    "purchase_order_status": ("orders", {"number": "po"}),
    "customer_lookup": ("customers", {"code": "customer"}),
    "find_product": ("items", {"sku": "item"}),
    "low_stock_report": ("rows", {"sku": "item"}),
    "check_inventory_stock": ("rows", {"sku": "item"}),
}


def remember_result(tool: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a follow-up may refer back to that the result, not the request, named."""
    if tool == "machine_warranty_lookup" and data.get("customer") and not data["customer_masked"]:
        return {"customer": data["customer"].split()[0]}  # "the customer contact there"
    if tool not in RESULT_SUBJECTS:
        return {}
    key, fields = RESULT_SUBJECTS[tool]
    rows = data.get(key) or []
    if len(rows) != 1:
        return {}
    memory = {memory: rows[0][field] for field, memory in fields.items() if rows[0].get(field)}
    supplier = str(rows[0].get("supplier") or "").split(" ")[0]
    if tool == "purchase_order_status" and SUPPLIER_CODE.fullmatch(supplier):
        memory["supplier"] = supplier  # "what other open POs with that supplier"
    # One purchase order going to one warehouse: "那个仓" next is that warehouse.
    warehouses = {line.get("warehouse") for line in rows[0].get("lines") or []}
    if tool == "purchase_order_status" and len(warehouses) == 1 and None not in warehouses:
        memory["warehouse"] = warehouses.pop()
    return memory


def listed_in_result(tool: str, data: dict[str, Any]) -> dict[str, list[Any]]:
    """The records a result listed, in order, for "the first one's machine" next turn."""
    if tool not in RESULT_SUBJECTS:
        return {}
    key, fields = RESULT_SUBJECTS[tool]
    rows = data.get(key) or []
    if tool == "purchase_order_status" and len(rows) == 1:
        skus = [line.get("sku") for line in rows[0].get("lines") or []]
        return {"item": skus} if len(skus) > 1 else {}  # "第一个" of the order's lines
    if tool == "check_inventory_stock":
        # A warehouse's items ("深圳仓有啥货" then "第三个主仓有几台"), not one item's places.
        skus = [row.get("sku") for row in rows]
        return {"item": skus} if len(set(skus)) > 1 else {}
    if len(rows) < 2:
        return {}
    return {memory: [row.get(field) for row in rows] for field, memory in fields.items()}


# Which list the last answer showed a place ("第二个", "the second one") picks from: the
# kind of record the message names, else the one the last tool is about.
LIST_OF_KIND = [
    ("serial_no", _any(r"机器|机台|设备|序列号|那台|这台", r"\bmachine|\bserial")),
    ("customer", _any(r"客户", r"\bcustomer|\bclient")),
    ("ticket_no", _any(r"服务单|售后单|维修单", r"\bticket")),
    ("work_order", _any(r"工单", r"work order")),
    ("po", _any(r"采购", r"\bpo\b|purchase")),
    ("order_no", _any(r"订单|销售单", r"\border")),
    ("warehouse", _any(r"仓", r"warehouse")),
]
LIST_OF_TOOL = {
    "check_inventory_stock": "item",
    "low_stock_report": "item",
    "find_product": "item",
    "sales_order_status": "order_no",
    "service_ticket_status": "ticket_no",
    "purchase_order_status": "po",
    "production_progress": "work_order",
    "customer_lookup": "customer",
    "machine_warranty_lookup": "serial_no",
}


# A document's number said with its kind instead of its prefix: "采购单2026-0003"; its
# sequence alone, zero-padded, is this year's document: "0005号工单", "工单0005".
KIND_WORDS = {
    "PO": "采购单|采购订单",
    "WO": "(?<![服务售后])工单",
    "ST": "服务单|售后单|维修单",
    "SO": "销售单|销售订单",
}
NUMBER_OF_KIND = [
    (re.compile(rf"(?:{words})\s*(\d{{4}})\s*-?\s*(\d{{4}})"), prefix)
    for prefix, words in KIND_WORDS.items()
]
SEQUENCE_OF_KIND = [
    (
        re.compile(rf"(?<![\d-])(0\d{{3}})\s*号?\s*(?:{words})|(?:{words})\s*(0\d{{3}})(?![\d-])"),
        prefix,
    )
    for prefix, words in KIND_WORDS.items()
]


def numbered_by_its_kind(text: str) -> str:
    for pattern, prefix in NUMBER_OF_KIND:
        text = pattern.sub(lambda m, p=prefix: f"{p}-{m.group(1)}-{m.group(2)} ", text)
    year = timezone.localdate().year
    for pattern, prefix in SEQUENCE_OF_KIND:
        text = pattern.sub(lambda m, p=prefix: f" {p}-{year}-{m.group(1) or m.group(2)} ", text)
    return text


NEXT_ONE = re.compile(r"(下一个|下一张|下一单|next( one)?|the next one)[\s?？呢]*$", re.I)
NUMBER_ALONE = re.compile(
    r"(?:n|and|or|那|还有|what about|how about)?\s*(\d{1,4})\s*(?:呢|\?|？)*$", re.I
)
BARE_SEQUENCE = re.compile(r"(?<![a-z0-9.-])(0\d{3})(?![a-z0-9.-])", re.I)
DOCUMENT_NUMBER = re.compile(r"^(SO|QT|WO|PO|ST)-(\d{4})-\d{4}$")


LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}|[a-e])\s*[.)、．:：]\s*", re.I)
REASON_SAID = re.compile(
    r"[,，;；\s]*(?:reason|备注|原因|理由|用途)\s*(?:写|是|为|填)?\s*[:：]\s*(.+?)\s*$", re.I
)
# A correction inside the message: what follows replaces what it names again.
CORRECTION = re.compile(
    r"[,，;；。.\s]*(?:哦|噢|啊)?(?:不对|说错了|打错了|写错了|不是这个)[,，;；。.!！\s]*"
    r"|[,;.\s]*\b(?:sorry,?\s*)?(?:i meant|i mean|no wait|correction:?)\b[,\s]*",
    re.I,
)


def lines_as_clauses(text: str) -> str:
    """A message of several lines ("Three things: 1. … 2. …") as clauses, list marks off."""
    lines = [LIST_MARKER.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    return "；".join(lines) if len(lines) > 1 else text


def reason_said(text: str) -> tuple[str, str | None]:
    """The text without a reservation's reason said after it, and the reason."""
    match = REASON_SAID.search(text)
    if not match or len(match.group(1)) < 2:
        return text, None
    return text[: match.start()], match.group(1)


def corrected(text: str) -> str:
    """ "保护镜主仓还剩多少，哦不对，我要问的是深圳仓的": the words after a correction replace
    what they name again (a warehouse, a quantity, a size, an item) in the words before."""
    match = CORRECTION.search(text)
    if not match:
        return text
    before, after = text[: match.start()], text[match.end() :]
    vocabulary = current_vocabulary()
    said_after = vocabulary.extract(after)
    kinds = {mention.kind for mention in said_after.mentions}
    source = vocabulary.extract(before)
    chars = list(source.text)
    for mention in source.mentions:
        if mention.kind in kinds:
            chars[mention.start : mention.end] = " " * (mention.end - mention.start)
    kept = "".join(chars)
    if said_after.quantities:
        kept = QUANTITY_WORDS.sub(" ", kept)
    if SIZE_WORDS.search(RECORD_CODE.sub(" ", after)) and not said_after.quantities:
        kept = SIZE_WORDS.sub(" ", kept)  # "the 1.5 nozzle, sorry, I meant the 2.0 one"
    return f"{kept} {after}"


QUANTITY_WORDS = re.compile(
    r"(?<![a-z0-9.\-])\d+(?:\.\d+)?\s*(?:个|件|台|套|片|只|支|把|盒|pcs|pc|sets?|units?)(?![a-z])|"
    r"[一二两俩三四五六七八九十百千]+\s*(?:个|件|台|套|片|只|支|把|盒)"
)
SIZE_WORDS = re.compile(r"(?<![a-z0-9.\-])\d+(?:\.\d+)?(?:\s*(?:kw|w|mm))?(?![\d.])")


def numberless(text: str) -> str:
    """A name without its numbers and codes: what two sizes of one item share."""
    return re.sub(r"[a-z]*\d[\w.×x-]*", "", text).strip()


def numbered_like_the_last(text: str, context: dict[str, Any]) -> str:
    """ "what about 0004?" right after WO-2026-0003: a sequence alone is a document of the
    kind and year just asked about."""
    numbers = [
        match
        for value in (context.get("last_params") or {}).values()
        if isinstance(value, str) and (match := DOCUMENT_NUMBER.match(value))
    ]
    if len(numbers) != 1:
        return text
    prefix, year = numbers[0].groups()
    if NEXT_ONE.match(text.strip()):  # "wo3 进度" then "下一个": WO-2026-0004
        sequence = int(numbers[0].group(0)[-4:]) + 1
        return f"{prefix}-{year}-{sequence:04d}"
    alone = NUMBER_ALONE.match(text.strip())
    if alone:  # "so14 status" then "n 13"
        return f"{prefix}-{year}-{int(alone.group(1)):04d}"
    return BARE_SEQUENCE.sub(lambda m: f"{prefix}-{year}-{m.group(1)}", text)


def place_of(ordinal: re.Match[str]) -> int:
    """The 0-based place an ORDINAL match names; -1 for the last."""
    word = next(group for group in ordinal.groups() if group)
    if word in ("last", "最后"):
        return -1
    return (int(word) if word.isdigit() else ORDINALS[word]) - 1


def picked_from_list(text: str, context: dict[str, Any]) -> str:
    """ "the second one 多少钱" after "LM-F30 和 LM-UV5 主仓还有几台": the place put as the
    record it names ("LM-UV5 多少钱"), then read like any message. Not while an ask-back
    waits for its answer (the choice is read from the offered ones)."""
    lists = context.get("named") or {}
    if context.get("choices") or not lists:
        return text
    match = ORDINAL.search(text.lower())
    if not match:
        return text
    place = place_of(match)
    # The kind said with the place ("第二个客户", "the first one's machine"), not a word
    # elsewhere ("第三个主仓有几台" picks the third item, in main).
    said_with = re.sub(
        r"^\s*(?:one\b|个|台|张|单|条|项)?\s*(?:的|'s|’s)?\s*(?:那家|这家|那个|这个|the)?\s*",
        "",
        text.lower()[match.end() :],
    )
    kinds = [kind for kind, words in LIST_OF_KIND if words.match(said_with)]
    kinds += [LIST_OF_TOOL.get(context.get("last_tool") or ""), *lists]
    named = next((lists[kind] for kind in kinds if kind and lists.get(kind)), [])
    if not -len(named) <= place < len(named) or not named[place]:
        return text
    end = match.end()
    end += len(re.match(r"\s*(one\b|个|台|张|单|条|项)?", text[end:]).group(0))
    return f"{text[: match.start()]} {named[place]} {text[end:]}".strip()


def remember(understanding: Understanding) -> dict[str, Any]:
    """What a follow-up may refer back to: the records this request named."""
    params = understanding.params
    memory: dict[str, Any] = {"last_tool": understanding.tool, "last_params": params}
    for key, target in (
        ("item", "item"),
        ("warehouse", "warehouse"),
        ("order_no", "order_no"),
        ("sales_order", "order_no"),
        ("serial_no", "serial_no"),
        ("work_order", "work_order"),
        ("po", "po"),
        ("ticket_no", "ticket_no"),
        ("customer", "customer"),
    ):
        if params.get(key):
            memory[target] = params[key]
    # A look-up by name of one record is that record ("customer Yongsheng" → their orders).
    query = params.get("query") or ""
    if understanding.tool == "customer_lookup" and CUSTOMER_CODE.fullmatch(query):
        memory["customer"] = query
    if understanding.tool == "find_product" and SKU_LIKE.fullmatch(query):
        memory["item"] = query
    return memory


class _Parser:
    def __init__(self, original, plain, language, context, tools, vocabulary: Vocabulary):
        self.original = original
        self.plain = plain
        self.language = "zh" if language == "zh" else "en"
        self.context = context
        self.tool_names = {tool.name for tool in tools} if tools is not None else None
        self.vocabulary = vocabulary
        self.entities: Entities = vocabulary.extract(original)
        respelled = vocabulary.respelled(self.entities, _known_word)
        if respelled is not None:
            self.entities = vocabulary.extract(respelled)
        self._item_groups: list[Mention] | None = None
        self.rest = self.entities.rest
        # The rest with item names put back: "安装" names an item but also a ticket kind.
        words = list(self.rest)
        for mention in self.entities.of("item"):
            words[mention.start : mention.end] = self.entities.text[mention.start : mention.end]
        self.rest_with_items = "".join(words)

    def has(self, pattern: re.Pattern[str]) -> bool:
        return bool(pattern.search(self.rest))

    def split_parts(self, understanding: Understanding) -> None:
        """Make `understanding` all the parts of the question, in the order asked: the same
        request for each record listed, or another request about the same record."""
        more = [(understanding.tool, params) for params in self.fan_out(understanding)]
        if more:
            understanding.more = more
            return
        calls = [(understanding.tool, understanding.params), *self.also(understanding)]
        if len(calls) == 1:
            return
        calls.sort(key=lambda call: self.asked_at(call[0]))
        understanding.tool, understanding.params = calls[0]
        understanding.more = calls[1:]

    def also(self, understanding: Understanding) -> list[tuple[str, dict[str, Any]]]:
        """Other questions about the same record asked in another part of the message
        ("LX20260001 还在保吗 有没有开着的单"): each with its own words, set apart from the
        first question's by a break (a space, a comma, 和, and)."""
        if get_tool(understanding.tool).write:
            return []
        main_at = self.asked_at(understanding.tool)
        extra = []
        for subject, value in understanding.params.items():
            for tool, param in SAME_SUBJECT.get(subject, []):
                if tool == understanding.tool or (self.tool_names and tool not in self.tool_names):
                    continue
                at = self.asked_at(tool)
                if at is None or main_at is None or at == main_at:
                    continue
                tickets_asked = understanding.tool == "service_ticket_status"
                if tool == "sales_order_status" and tickets_asked and not self.names_sales_orders():
                    continue  # "报过几次售后？单子都列出来": the tickets' 单子
                between = self.rest[min(at, main_at) : max(at, main_at)]
                if not PART_BREAK.search(between):
                    continue
                params = {param: value}
                if tool == "service_ticket_status" and self.has(OPEN_ONLY):
                    params["open_only"] = True
                if tool == "check_inventory_stock" and self.warehouse():
                    params["warehouse"] = self.warehouse()
                extra.append((tool, params))
        return extra[:1]

    def asked_at(self, tool: str) -> int | None:
        """Where the message asks for what `tool` answers (its words' first place)."""
        words = TOOL_WORDS.get(tool)
        match = words.search(self.rest) if words else None
        return match.start() if match else None

    def fan_out(self, understanding: Understanding) -> list[dict[str, Any]]:
        """The further calls of a question naming several records of one kind: each order,
        serial, item or warehouse named after the first, crossed (two items in two
        warehouses are four calls). Read tools only: a write names one thing at a time."""
        tool = get_tool(understanding.tool)
        if tool.write:
            return []
        first = understanding.params
        dimensions: list[list[dict[str, Any]]] = []
        for param, named in self.named_records().items():
            if param == "item" and understanding.tool == "check_inventory_stock":
                named_parts = self.stock_parts()
                if len(named_parts) > 1 and _has_all(first, named_parts[0]):
                    dimensions.append(named_parts)
            elif len(named) > 1 and first.get(param) == named[0]:
                dimensions.append([{param: value} for value in named])
            elif param == "item" and understanding.tool == "find_product" and len(named) > 1:
                # "LM-F30和LM-UV5 各多少钱": each item's card.
                cards = [{"query": value} for value in named]
                dimensions += [cards] if first.get("query") == named[0] else []
        if not dimensions:
            return []
        calls = [dict(first)]
        for dimension in dimensions:
            calls = [_with(call, choice) for call in calls for choice in dimension]
        if len(calls) > MAX_PARTS:
            return []
        return calls[1:]  # in the order named: the first call is the one already made

    def stock_parts(self) -> list[dict[str, Any]]:
        """The items listed together in a stock question, each as the tool takes it: a word
        that fits several items of one kind ("切割头和喷嘴在深圳仓各剩多少", "备件仓喷嘴都有
        多少") is all of that kind; one that fits items of several kinds is asked back."""
        by_number = self.items_by_number()
        if by_number:
            return [{"item": sku} for sku in by_number]
        parts = []
        groups = self.joined(self.item_groups())
        # "how many nozzles in spare": a kind in the plural, not narrowed, is all of them.
        every_one = (
            len(groups) == 1
            and len(groups[0].values) > 1
            and (self.has(EVERY_ONE) or self.whole_kind_in_plural(groups[0]))
        )
        for group in groups if len(groups) > 1 or every_one else []:
            if len(group.values) == 1:
                parts.append({"item": group.values[0]})
                continue
            categories = {item.category for item in self.vocabulary.items(group.values).values()}
            if len(categories) != 1 or categories == {"other"}:
                self.ask_which(group, "check_inventory_stock", {"warehouse": self.warehouse()})
            parts.append({"category": categories.pop()})
        return parts

    def whole_kind_in_plural(self, group: Mention) -> bool:
        """ "nozzles" naming every nozzle; not "D37 focus lenses", two of the lenses."""
        words = CATEGORY_WORDS_EN.search(self.plain)
        if not words or self.numbers:
            return False
        kind = CATEGORY_OF_WORD[words.group(1)]
        every = Item.objects.filter(active=True, category=kind).values_list("sku", flat=True)
        return set(group.values) == set(every)

    def items_by_number(self) -> list[str]:
        """ "12kw or 6kw cutters", "1500W和2000W的手持焊", "raycus 1500 and 12000 sources": one
        kind named once with several sizes or powers, the item of each in the order said;
        [] unless each number names exactly one item of that kind."""
        match = NUMBER_LIST.search(self.rest)
        groups = self.item_groups()
        if not match or len(groups) != 1:
            return []
        pool = self.whole_meaning(groups[0]) | set(groups[0].values)
        if len(pool) == 1:
            item = self.vocabulary.item(next(iter(pool)))
            similar = Item.objects.filter(active=True, category=item.category)
            pool = set(similar.values_list("sku", flat=True))
        texts = dict(Item.objects.filter(sku__in=pool).values_list("sku", "search_text"))
        found = []
        for number in (match.group(1), match.group(2)):
            having = [
                sku
                for sku in sorted(pool)
                if self.has_number(normalize(texts.get(sku, "")), number)
                or re.search(rf"(?<![\d.]){re.escape(number)}(?![\d.])", sku)
            ]
            if len(having) != 1 or having[0] in found:
                return []
            found.append(having[0])
        return found

    def named_records(self) -> dict[str, list[str]]:
        """Each parameter's records named in the sentence, in order, each once."""
        e = self.entities
        items = self.listed(self.item_groups())
        return {
            "order_no": e.numbers.get("SO", []),
            "sales_order": e.numbers.get("SO", []),
            "po": e.numbers.get("PO", []),
            "work_order": e.numbers.get("WO", []),
            "ticket_no": e.numbers.get("ST", []),
            "serial_no": list(dict.fromkeys(e.serials)),
            "item": list(dict.fromkeys(items)),
            "warehouse": self.listed(e.of("warehouse")),
            "customer": self.listed(e.of("customer")),
        }

    def listed(self, mentions: list[Mention]) -> list[str]:
        """The records of mentions listed together ("保护镜和陶瓷环", "main or sz"), up to
        the first one that fits several records."""
        named: list[str] = []
        for mention in self.joined(mentions):
            if len(mention.values) != 1:
                break
            if mention.values[0] not in named:
                named.append(mention.values[0])
        return named

    def joined(self, mentions: list[Mention]) -> list[Mention]:
        """The first mention and each next one joined to the one before by a conjunction or a
        space ("保护镜 陶瓷环 聚焦镜"). A name next to another without one ("锐科1500瓦激光器")
        is the same thing said twice."""
        found: list[Mention] = []
        for mention in mentions:
            if found:
                between = self.entities.text[found[-1].end : mention.start]
                # A size or power written onto either name ("3kw的冷水机和3kw的激光器").
                between = SPEC_AFTER.sub("", SPEC_BEFORE.sub("", between)) or between
                if not (CONJUNCTION.fullmatch(between) or (between and between.isspace())):
                    break
            found.append(mention)
        return found

    def tool(self, name: str, **params: Any) -> Understanding:
        if params.get("item"):
            # An item named now replaces the kind of item asked about before.
            params.pop("category", None)
        return Understanding("tool", tool=name, params={k: v for k, v in params.items() if v})

    def ask(self, what: str, **partial: Any) -> Ask:
        return Ask(replies.clarify_missing(what, self.language), **partial)

    # -- entities ----------------------------------------------------------------------------

    @property
    def numbers(self) -> list[str]:
        taken = {position for _, position in self.entities.quantities}
        return [m.group(1) for m in NUMBER.finditer(self.rest) if m.start() not in taken]

    def item_groups(self) -> list[Mention]:
        """Item mentions, neighbours naming the same things merged ("双层" + "喷嘴"), read
        once per message (narrowing them asks the database)."""
        if self._item_groups is None:
            self._item_groups = self._grouped_items()
        return self._item_groups

    def _grouped_items(self) -> list[Mention]:
        """Neighbours naming the same things are one group. A word is read in its whole
        meaning when a neighbour narrows it: "激光器" is LS-RC-3000's own alias but also part
        of every source's name, so "锐科激光器" is each Raycus source, not LS-RC-3000."""
        groups: list[Mention] = []
        pieces: list[list[Mention]] = []  # each group's mentions
        for mention in self.entities.of("item"):
            if groups:
                last = groups[-1]
                between = self.entities.text[last.end : mention.start]
                if len(between.strip(" 的")) == 0:
                    common = set(last.values) & set(mention.values)
                    wider = set.intersection(
                        *(self.whole_meaning(piece) for piece in [*pieces[-1], mention])
                    )
                    if len(wider) > len(common):
                        common = wider
                    if common:
                        last.values = sorted(common)
                        last.text = self.entities.text[last.start : mention.end]
                        last.end = mention.end
                        pieces[-1].append(mention)
                        continue
            groups.append(
                Mention(mention.text, "item", list(mention.values), mention.start, mention.end)
            )
            pieces.append([mention])
        groups = self.fitted(groups)
        for group in groups:
            group.values = self.narrow(group)
        return groups

    def fitted(self, groups: list[Mention]) -> list[Mention]:
        """ "BLT641 头用的 ceramic ring": a part named with what it fits is the one item both
        names can mean (CR-28, the ring for BLT641 heads), not each of them."""
        if len(groups) != 2:
            return groups
        between = self.between(groups)
        if not (FITS_BEFORE.search(between) or FITS_AFTER.search(between)):
            return groups
        common = self.whole_meaning(groups[0]) & self.whole_meaning(groups[1])
        if len(common) != 1:
            return groups
        start, end = groups[0].start, groups[1].end
        return [Mention(self.entities.text[start:end], "item", sorted(common), start, end)]

    def between(self, groups: list[Mention]) -> str:
        return self.entities.text[groups[0].end : groups[1].start]

    def whole_meaning(self, mention: Mention) -> set[str]:
        """The items a word names as their own name or as part of one."""
        derived = names.derived_items([mention.text]).get(mention.text, [])
        return set(mention.values) | set(derived)

    def narrow(self, group: Mention) -> list[str]:
        """Use the numbers in the sentence (1.5, 37, 6kw) to pick among similar items.

        A number the named item does not have widens the choice to its category first:
        "12kW切割机" is the 12 kW machine although "切割机" alone is the 6 kW one.
        """
        skus = group.values
        numbers = self.numbers
        if not numbers:
            return skus
        if len(skus) > 1 and self.attached_numbers(group):
            # "双层1.5 跟 单层1.0": each name with its own number, not its neighbour's.
            numbers = self.attached_numbers(group)
        candidates = Item.objects.filter(sku__in=skus)
        if len(skus) == 1:
            item = self.vocabulary.item(skus[0])
            attached = self.attached_numbers(group)
            if all(self.has_number(normalize(item.search_text), n) for n in attached):
                return self.other_with_numbers(group, item) or skus
            numbers = attached
            # Its kind of item that has the numbers (the database finds the candidates).
            similar = Item.objects.filter(
                active=True, category=item.category, item_type=item.item_type
            )
            skus = list(similar.values_list("sku", flat=True))
            candidates = similar.filter(_containing_any(numbers))
        # Names normalised as the sentence is: "1500W" in a name is the "1.5kw" asked for.
        text_of = {
            sku: normalize(text) for sku, text in candidates.values_list("sku", "search_text")
        }
        for number in numbers:
            kept = [sku for sku in skus if self.has_number(text_of.get(sku, ""), number)]
            if kept:
                skus = kept
        # A number written as in the SKU ("D2.0" of NZ-D2.0, "F150") narrows further.
        for fragment in SKU_FRAGMENT.findall(self.rest):
            kept = [
                sku
                for sku in skus
                if re.search(rf"(?<![a-z0-9]){re.escape(fragment)}(?!\d)", sku.lower())
            ]
            if kept:
                skus = kept
        return skus

    def same_kind_with_numbers(self, sku: str | None) -> str | None:
        """The one other item of this item's kind that has the message's numbers."""
        if not sku or not self.numbers or self.entities.of("item"):
            return None
        item = self.vocabulary.items([sku]).get(sku)
        if item is None:
            return None
        similar = Item.objects.filter(
            active=True, category=item.category, item_type=item.item_type
        ).exclude(sku=sku)
        having = {
            other: normalize(name)
            for other, text, name in similar.values_list("sku", "search_text", "name")
            if all(self.has_number(normalize(text), number) for number in self.numbers)
        }
        if len(having) > 1:
            # "single nozzle 1.5" then "2.0的呢": the one named as it is but for the number.
            shape = numberless(normalize(item.name))
            having = {sku: name for sku, name in having.items() if numberless(name) == shape}
        return next(iter(having)) if len(having) == 1 else None

    def other_with_numbers(self, group: Mention, item: Item) -> list[str] | None:
        """The one other item the words also name that has the sentence's numbers the named
        one lacks: "ceramic rng 28mm" is CR-28, though "ceramic" alone is CR-32."""
        elsewhere = {
            number
            for other in self.entities.of("item")
            if other.end <= group.start or other.start >= group.end
            for number in self.attached_numbers(other)
        }
        missing = [
            n
            for n in self.numbers
            if n not in elsewhere and not self.has_number(normalize(item.search_text), n)
        ]
        others = sorted(self.whole_meaning(group) - {item.sku})
        if not missing or not others:
            return None
        texts = dict(Item.objects.filter(sku__in=others).values_list("sku", "search_text"))
        having = [
            sku
            for sku in others
            if all(self.has_number(normalize(texts.get(sku, "")), n) for n in missing)
        ]
        return having if len(having) == 1 else None

    def attached_numbers(self, group: Mention) -> list[str]:
        """Numbers written onto a name ("12kW切割机", "聚焦镜D37"), not quantities before it."""
        attached = []
        quantities = {position for _qty, position in self.entities.quantities}
        for match in NUMBER.finditer(self.rest):
            if match.start() in quantities:
                continue
            unit = re.match(r"(kw|w|mm)?", self.rest[match.end() :]).group(0)
            unit_end = match.end() + len(unit)
            # "12000W 的 cutting machine" is as attached as "12000W切割机", and a size
            # written as in a SKU ("D37聚焦镜") as "聚焦镜D37".
            before = (
                (bool(unit) or match.group(0)[0].isalpha())
                and unit_end <= group.start
                and not self.rest[unit_end : group.start].strip(" 的")
            )
            after = group.end <= match.start() and not self.rest[group.end : match.start()].strip()
            if before or after:
                attached.append(match.group(1))
        return attached

    @staticmethod
    def has_number(names: str, number: str) -> bool:
        """Whether the normalised names hold the number as a number ("1.5", not "11.5")."""
        return bool(re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", names))

    def item(self, required: bool, slot_tool: str = "", params: dict | None = None) -> str | None:
        groups = self.item_groups()
        if not groups:
            group = self.by_power()
            if group is None:
                return None
        else:
            group = groups[0]
        if len(group.values) == 1:
            return group.values[0]
        of_kind = self.of_the_kind_listed(group.values)
        if of_kind:
            return of_kind  # "切割头库存" then "BLT641那款呢": the cutting head
        beside = self.named_by_the_word_beside(group)
        if beside:
            return beside
        self.ask_which(group, slot_tool, params or {})
        return None

    def of_the_kind_listed(self, skus: list[str]) -> str | None:
        """The one of these items of the kind the last question was about (its kind, or
        its item's)."""
        last = self.context.get("last_params") or {}
        category = last.get("category")
        if not category and last.get("item"):
            item = self.vocabulary.items([last["item"]]).get(last["item"])
            category = item.category if item else None
        if not category:
            return None
        of_kind = [
            sku for sku, item in self.vocabulary.items(skus).items() if item.category == category
        ]
        return of_kind[0] if len(of_kind) == 1 else None

    def named_by_the_word_beside(self, group: Mention) -> str | None:
        """ "BLT641 头": of the few items a code fits, the one whose Chinese name holds the
        word written right after it (切割头, not the ring 陶瓷环)."""
        if len(group.values) > ASK_BACK_SHOWN:
            return None
        beside = re.match(r"\s*([\u4e00-\u9fff]{1,2})", self.rest[group.end :])
        if not beside:
            return None
        items = self.vocabulary.items(group.values)
        for piece in dict.fromkeys([beside.group(1), beside.group(1)[0]]):
            having = [sku for sku, item in items.items() if piece in (item.name_zh or "")]
            if len(having) == 1:
                return having[0]
        return None

    def ask_which(self, group: Mention, tool: str, params: dict[str, Any]) -> None:
        """Ask which of the items the words fit is meant (raises Ask)."""
        shortlist = self.shortlist(group)
        candidates = self.vocabulary.item_labels(shortlist, self.language)
        raise Ask(
            replies.ambiguous(group.text, candidates, self.language, len(group.values)),
            candidates,
            tool=tool,
            params=params,
            choices=shortlist,
            slot="item",
        )

    def shortlist(self, group: Mention) -> list[str]:
        """The items an ask-back offers: all of a few; of dozens, the 8 the company holds
        most of (the likeliest to be asked about); of more than RANKED_AT_MOST, the first 8
        by SKU: ranking thousands costs more than the answer is worth when the reply asks
        to narrow down anyway."""
        if len(group.values) <= ASK_BACK_SHOWN:
            return group.values
        if len(group.values) > RANKED_AT_MOST:
            return group.values[:ASK_BACK_SHOWN]
        return self.vocabulary.most_stocked(group.values, ASK_BACK_SHOWN)

    def by_power(self) -> Mention | None:
        """The items of the power asked for ("6000W的", "a 6kw cutter", "3千瓦激光器"), of the
        kind named if one is: an item named by no other word."""
        match = POWER_ASKED.search(self.rest)
        if not match:
            return None
        kilowatts = match.group(1)
        watts = f"{float(kilowatts) * 1000:g}w"
        # Names write powers many ways ("3000W", "3000 W", "3 kW"); the names are compared
        # normalised below.
        spellings = {f"{kilowatts}kw", f"{kilowatts} kw", watts, watts.replace("w", " w")}
        condition = Q(pk__in=[])
        for spelling in spellings:
            condition |= Q(search_text__contains=spelling)
        found = Item.objects.filter(active=True).filter(condition)
        for category, words in POWER_NOUNS:
            if words.search(self.rest):
                found = found.filter(category=category)
                break
        else:
            kind = self.kind_talked_about()
            if kind:
                found = found.filter(category=kind)  # "6000W那个" right after the chillers
        of_power = re.compile(rf"(?<![\d.]){re.escape(kilowatts)}kw")
        skus = [
            sku
            for sku, text in found.order_by("sku").values_list("sku", "search_text")
            if of_power.search(normalize(text))
        ]
        if not skus:
            return None
        return Mention(match.group(0), "item", skus, match.start(), match.end())

    def kind_talked_about(self) -> str | None:
        """The category of the item the conversation is about, for a follow-up that names
        only a size or power ("6000W那个在哪个仓" after "冷水机库存")."""
        if not (self.context.get("item") and (FOLLOW_UP.search(self.plain) or self.points_back())):
            return None
        item = self.vocabulary.items([self.context["item"]]).get(self.context["item"])
        return item.category if item and item.category != "other" else None

    def points_back(self) -> bool:
        return bool(
            re.search(r"它|这个|那个|[这那][款种样]|该|\bit\b|\bthat\b|\bthis\b|\bone\b", self.rest)
        )

    def report(self) -> Understanding | None:
        """A report asked for as a file: "导出本月销售报表", "stock valuation report for
        main", "生成补货计划"."""

        # The whole text: a warehouse's name may hold the words ("主仓库存金额").
        def says(pattern: re.Pattern[str]) -> bool:
            return bool(pattern.search(self.plain))

        warehouses = [mention.values[0] for mention in self.entities.of("warehouse")] or None
        plan = PLAN_REFERENCE.search(self.plain)
        if plan and says(DRAFT_ORDERS):
            return self.tool("create_draft_purchase_orders", job=int(plan.group(1)))
        if says(REORDER_PLAN):
            return self.tool("reorder_plan", warehouses=warehouses)
        # A valuation is only ever a report ("备件仓的 stock valuation 发我下").
        if not says(REPORT) and not says(VALUATION_ALONE):
            return None
        if says(VALUATION):
            category = self.category_named()
            return self.tool("inventory_valuation_report", warehouses=warehouses, category=category)
        if says(SALES_FIGURES):
            month = self.dates_named() or self.month_named()
            if month:
                return self.tool("sales_report", start=str(month[0]), end=str(month[1]))
            return self.tool("sales_report", period=self.period())
        return None

    def dates_named(self) -> tuple[date, date] | None:
        """Two dates written out, first and last day ("2026-11-01 到 2026-11-15")."""
        match = DATE_RANGE.search(self.plain)
        try:
            if match:
                numbers = [int(group) for group in match.groups()]
                first, last = date(*numbers[:3]), date(*numbers[3:])
            else:
                days = self.days_without_year()
                if days is None:
                    return None
                first, last = days
        except ValueError:
            return None  # "2026-02-30": no such day, the words say no period
        return (first, last) if first <= last else None

    def days_without_year(self) -> tuple[date, date] | None:
        """ "from Nov 1 to Nov 15", "11月1号到15号": this year's days, last year's when
        they have not come yet."""
        english, chinese = EN_DAY_RANGE.search(self.plain), ZH_DAY_RANGE.search(self.plain)
        english = english or EN_DAY_FIRST_RANGE.search(self.plain)  # "1 Sept to 15 Nov"
        if english:
            month = MONTH_NAMES_EN.index(english.group("m1")[:3]) + 1
            end_month = english.group("m2")
            last_month = MONTH_NAMES_EN.index(end_month[:3]) + 1 if end_month else month
            days = (int(english.group("d1")), int(english.group("d2") or english.group("d3")))
        elif chinese:
            month = int(chinese.group(1))
            last_month = int(chinese.group(3) or month)
            days = (int(chinese.group(2)), int(chinese.group(4)))
        else:
            return None
        today = timezone.localdate()
        year = today.year if date(today.year, month, days[0]) <= today else today.year - 1
        return date(year, month, days[0]), date(year, last_month, days[1])

    def month_named(self) -> tuple[date, date] | None:
        """A calendar month said by name ("11月", "2026年11月", "November"): its first and
        last day; without a year, the latest such month not after this one."""
        match = MONTH_ZH.search(self.plain)
        number = None
        if match:
            number = _month_number(match.group("month"))
            year = int(match.group("year")) if match.group("year") else None
        else:
            match = MONTH_EN.search(self.plain)
            if match:
                number = MONTH_NAMES_EN.index(match.group("month")[:3]) + 1
                year = int(match.group("year")) if match.group("year") else None
        if not number or not 1 <= number <= 12:
            return None
        today = timezone.localdate()
        if year is None:
            year = today.year if number <= today.month else today.year - 1
        last_day = calendar.monthrange(year, number)[1]
        return date(year, number, 1), date(year, number, last_day)

    def warehouse(self) -> str | None:
        found = [m for m in self.entities.of("warehouse")]
        if found:
            return found[0].values[0]
        if THAT_WAREHOUSE.search(self.rest):
            return self.context.get("warehouse")  # "那个仓" after the PO said where it goes
        return None

    def customer(self, tool: str) -> str | None:
        """The one customer named, for `tool`; an ask-back when the name fits several."""
        found = self.entities.of("customer") or [
            m for m in self.entities.mentions if "customer" in m.others
        ]
        if not found:
            return None
        mention = found[0]
        codes = self.customer_codes(mention)
        # "苏州恒通": a city and a name together are the customers both fit.
        for neighbour in found[1:]:
            between = self.entities.text[mention.end : neighbour.start]
            narrower = [code for code in codes if code in self.customer_codes(neighbour)]
            if between.strip(" 的") or not narrower:
                break
            codes, mention = narrower, neighbour
        if len(codes) == 1:
            return codes[0]
        candidates = [str(self.vocabulary.customers[code]) for code in codes[:8]]
        raise Ask(
            replies.ambiguous(mention.text, candidates, self.language, len(codes)),
            candidates,
            tool=tool,
        )

    def tickets(self) -> Understanding:
        """The service tickets asked about: of the machine or customer named or talked
        about, else one's own."""
        open_only = self.has(OPEN_ONLY) or bool(TICKET_READ_OPEN.search(self.plain))
        serial = None
        if not self.has(CUSTOMER):  # "这个客户还有别的单吗": the customer's, not the machine's
            serial = self.earlier("serial_no") or self.machine_talked_about()
        if serial:
            return self.tool("service_ticket_status", serial_no=serial, open_only=open_only)
        customer = (
            self.customer("service_ticket_status")
            or self.earlier("customer")
            or self.talked_about("customer")
        )
        # Without a machine or customer the tool lists one's own open tickets anyway.
        open_only = open_only and bool(customer)
        return self.tool("service_ticket_status", customer=customer, open_only=open_only)

    def machine_talked_about(self) -> str | None:
        """The machine of the last question, for one that names no record of its own
        ("LX20260002 保修到哪天" then "有没有开着的服务单")."""
        return self.talked_about("serial_no")

    def talked_about(self, param: str) -> str | None:
        """The record of the last question, for one that names none of its own and is not
        about one's own work ("恒通的售后单" then "单子都列出来我看看")."""
        if self.entities.mentions or self.entities.serials or self.has(MY_WORK):
            return None
        if param not in (self.context.get("last_params") or {}):
            return None
        return self.context.get(param)

    def names_sales_orders(self) -> bool:
        """Whether the words for documents are a sales order's own, not any 单 ("单子")."""
        return bool(SALES.search(GENERIC_DOCUMENT.sub(" ", self.rest)))

    def means_tickets(self) -> bool:
        """Whether a bare "单" ("这个客户还有别的单吗") is a service ticket: for one who sees
        tickets but not sales orders, or right after a question about tickets or a machine
        ("LX20250007 保修状态和没关的单": a machine's 单 are its tickets)."""
        if self.names_sales_orders():
            return False
        tools = self.tool_names
        sees_only_tickets = tools is not None and "sales_order_status" not in tools
        after = self.context.get("last_tool")
        return sees_only_tickets or after in ("service_ticket_status", "machine_warranty_lookup")

    def one_customer(self) -> str | None:
        """The customer named, when the words fit only one."""
        try:
            return self.customer("customer_lookup")
        except Ask:
            return None

    @staticmethod
    def customer_codes(mention: Mention) -> list[str]:
        return mention.values if mention.kind == "customer" else mention.others["customer"]

    def supplier(self, prefer: bool) -> str | None:
        for mention in self.entities.mentions:
            if mention.kind == "supplier" and len(mention.values) == 1:
                return mention.values[0]
            if prefer and len(mention.others.get("supplier", [])) == 1:
                return mention.others["supplier"][0]
        if THAT_SUPPLIER.search(self.plain):
            return self.context.get("supplier")  # "other open POs with that supplier"
        return None

    def serial(self) -> str | None:
        if self.entities.serials:
            return self.entities.serials[0]
        return self.earlier("serial_no")

    def earlier(self, param: str) -> str | None:
        """A record of the conversation this message points back to: "第二个" / "the
        second one" of a list named last turn, or "它" / "it" / "them" for the last one."""
        index = self.ordinal()
        if index is not None:
            named = (self.context.get("named") or {}).get(param) or []
            return named[index] if -len(named) <= index < len(named) else None
        if BACK_REFERENCE.search(self.rest):
            return self.context.get(param)
        return None

    def ordinal(self) -> int | None:
        """The 0-based place "第二个" / "the second one" names; -1 for the last; None."""
        match = ORDINAL.search(self.rest)
        return place_of(match) if match else None

    def lists(self) -> dict[str, list[str]]:
        return {param: named for param, named in self.named_records().items() if len(named) > 1}

    def qty(self) -> int | float | None:
        found = self.entities.quantities
        return plain_number(found[0][0]) if found else None

    # -- intents -----------------------------------------------------------------------------

    def parse(self) -> Understanding:
        e = self.entities
        has_entities = bool(e.numbers or e.serials or e.mentions)
        if not has_entities:
            if GREETING.match(self.plain):
                return Understanding("greeting")
            if THANKS.match(self.plain):
                return Understanding("thanks")
        choice = self.choice() or self.choice_described()
        if choice:
            return choice
        if UNSUPPORTED_ACTION.search(self.plain):
            return Understanding("unknown")  # approving, shipping, cancelling: not from chat
        changed = self.quote_changed() or self.reservation_changed()
        if changed:
            return changed
        in_the_order = self.item_in_the_purchase_order()
        if in_the_order:
            return in_the_order
        same = (
            self.same_question()
            or self.same_listing_narrowed()
            or self.stock_listing_narrowed()
            or self.listing_elsewhere()
            or self.same_report_again()
        )
        if same:
            return same
        report = self.report()
        if report:
            return report
        declared = self.declared_tool()
        if declared:
            return declared
        if self.wants_ticket_opened():
            return self.open_ticket()
        if self.has(RESERVE) and not self.has(RESERVED_QUESTION) and self.orders_a_write():
            return self.reserve()
        # A quote's number names a quote there is ("new quote QT-2026-0002, approved yet?"):
        # that one is asked about; making a quote never takes one.
        names_a_quote = any(n.startswith("QT-") for n in e.numbers.get("SO", []))
        quote_asked = (self.has(QUOTE_AS_DOCUMENT) and not self.has(QUOTE_MADE)) or names_a_quote
        if self.has(QUOTE) and self.orders_a_write() and not quote_asked:
            return self.quote()
        by_number = self.by_number()
        if by_number:
            return by_number
        if e.serials:
            return self.by_serial()
        if self.has(WARRANTY):
            serial = self.earlier("serial_no") or self.context.get("serial_no")
            product = self.product_named()
            # "那台打标机的AMC还有多久" after its ticket: that machine's, not the product's term.
            if serial and THAT_MACHINE.search(self.plain):
                return self.tool("machine_warranty_lookup", serial_no=serial)
            if product and (self.has(WARRANTY_TERM) or not serial):
                return self.tool("find_product", query=product)  # the product's warranty
            if serial:
                return self.tool("machine_warranty_lookup", serial_no=serial)
            raise self.ask("serial_no", tool="machine_warranty_lookup")
        if self.has(LOW_STOCK) and not (self.has(PURCHASE_WHEN) or self.has(PURCHASE_NAMED)):
            low = self.low_stock()
            if low:
                return low
        customer_order = self.has(SALES) and self.entities.of("customer")
        purchases = self.has(PURCHASE) or self.purchase_orders_of_an_item()
        purchases = purchases and not self.sales_orders_coming_in()
        if purchases and not (customer_order and not self.entities.of("supplier")):
            return self.purchase()
        if self.has(PRODUCTION) and not self.asks_how_far_an_order_is():
            customer = None if e.first("SO") or e.serials else self.one_customer()
            if customer:
                return self.tool("production_progress", customer=customer)  # "创新精密那台"
            for param, key in PRODUCTION_SUBJECTS:
                earlier = self.earlier(key) or self.context.get(key)
                if earlier:
                    return self.tool("production_progress", **{param: earlier})
            if self.earlier("customer"):  # "any work orders running for them?"
                return self.tool("production_progress", customer=self.earlier("customer"))
            raise self.ask("work_order", tool="production_progress")
        if self.has(MY_WORK) and not self.entities.mentions:
            mine = "service_ticket_status"
            asks_orders = MY_ORDERS.search(self.rest) and self.sees("sales_order_status")
            if asks_orders or not self.sees(mine):
                return self.orders_listed()
            return self.tool(mine)
        if self.has(SERVICE) and not self.has(STOCK_STRONG):
            return self.tickets()
        if self.has(SALES) and self.entities.of("supplier") and not self.entities.of("customer"):
            return self.purchase()  # "光韵的单子到哪了": a supplier's orders are purchases
        asks_sales = self.has(SALES) and not self.has(STOCK_STRONG)
        if asks_sales and self.means_tickets():
            return self.tickets()
        if asks_sales or self.has(CUSTOMER):
            customer = self.customer("sales_order_status" if asks_sales else "customer_lookup")
        else:
            # A name that fits several customers ("苏州" in "明天苏州天气") asks nothing here.
            customer = self.one_customer()
        if asks_sales:
            customer = customer or self.earlier("customer") or self.name_no_customer_has()
            status = None if customer else self.order_status()
            return self.tool(
                "sales_order_status", customer=customer, status=status, period=self.period()
            )
        if customer and (self.order_status() or self.period()) and self.sees("sales_order_status"):
            return self.orders_listed(customer)  # "anything still in draft for Hongyuan"
        if customer and (self.has(CUSTOMER) or not e.of("item")):
            return self.tool("customer_lookup", query=customer)
        if self.has(CUSTOMER) and not e.mentions and self.order_status():
            return self.orders_listed()  # "anything stuck on hold for my customers?"
        if self.has(CUSTOMER) and not e.mentions:
            earlier = self.earlier("customer") or self.talked_about("customer")
            if earlier:
                return self.tool("customer_lookup", query=earlier)  # "their contact"
            query = self.leftover_words()
            if query:
                return self.tool("customer_lookup", query=query)
            if self.context.get("customer"):
                return self.tool("customer_lookup", query=self.context["customer"])
            raise self.ask("customer", tool="customer_lookup")
        if self.has(ADVICE):
            return Understanding("unknown")
        follow = self.follow_up()
        if follow:
            return follow
        if (
            not e.mentions
            and not e.serials
            and self.order_status()
            and self.sees("sales_order_status")
        ):
            return self.orders_listed()  # "anything cancelled this year?"
        return self.stock_or_find()

    def orders_listed(self, customer: str | None = None) -> Understanding:
        """Sales orders in the state and period the message says: a state only orders have
        ("cancelled", "on hold", "draft") makes any question about them an orders question."""
        return self.tool(
            "sales_order_status",
            customer=customer,
            status=self.order_status(),
            period=self.period(),
        )

    def item_in_the_purchase_order(self) -> Understanding | None:
        """ "里面的陶瓷环是进哪个仓" right after a purchase order: that order's line of the
        item (where it goes, how much is open)."""
        po = self.context.get("po")
        if self.context.get("last_tool") != "purchase_order_status" or not po:
            return None
        if not IN_THAT_DOCUMENT.search(self.plain) or self.entities.first("PO"):
            return None
        if self.warehouse() or self.has(STOCK_STRONG):
            return None  # "那里面的聚焦镜现在主仓有多少": its stock
        item = self.item(False)
        return self.tool("purchase_order_status", po=po, item=item) if item else None

    def purchase_orders_of_an_item(self) -> bool:
        """ "has the MFSC-6000 order been approved" from the warehouse, who see purchases but
        no sales orders; "anything open with <supplier>": an item's or a supplier's orders
        are purchase orders."""
        e = self.entities
        if e.first("SO") or e.of("customer") or not self.sees("purchase_order_status"):
            return False
        if self.has(STOCK_STRONG) and IN_THAT_DOCUMENT.search(self.plain):
            return False  # "这单里的聚焦镜现在库存多少": the item of that order, its stock
        if e.of("supplier") and (self.has(OPEN_ONLY) or self.has(SALES)):
            return True
        return bool(self.has(SALES) and e.of("item") and not self.sees("sales_order_status"))

    def sales_orders_coming_in(self) -> bool:
        """ "any orders come in yesterday" from sales: orders received, not purchases
        arriving; only words that name purchases make it one for them."""
        return (
            self.has(SALES)
            and not self.sees("purchase_order_status")
            and not PURCHASE_NAMED.search(self.rest)
            and not self.entities.first("PO")
            and not self.entities.of("supplier")
        )

    def sees(self, tool: str) -> bool:
        return self.tool_names is None or tool in self.tool_names

    def orders_a_write(self) -> bool:
        """Whether the message orders something done rather than asks about it: a verb
        that can be a question's too ("reserved qty of NZ-S1.5?", "给永盛报过价没有",
        "LX20250003 最近有没有新的报修") orders a write only in an imperative."""
        if IMPERATIVE_START.search(self.plain) or POLITE_REQUEST.search(self.plain):
            return True
        return not QUESTION.search(self.rest.strip(" .。!！~～"))

    def wants_ticket_opened(self) -> bool:
        if not OPEN_TICKET.search(self.rest_with_items) or TICKET_READ.search(self.plain):
            return False
        if ASKED_IN_ENGLISH.search(self.plain):
            return False  # "did someone open a ticket for LX20250003 already"
        return bool(TICKET_ORDERED.search(self.rest_with_items)) or self.orders_a_write()

    def asks_how_far_an_order_is(self) -> bool:
        """ "创新精密的订单到哪一步了": how far a customer's order is (a sales question),
        unless production is named."""
        named = self.entities.of("customer") and self.has(SALES)
        return bool(named) and not self.has(PRODUCTION_NAMED)

    def period(self) -> str | None:
        """The period a question's dates are counted in ("上个月的订单": last_month; "只看11月的"
        in December: last_month too)."""
        # The first said ("sales report for last month, boss wants it today": last month).
        said_at = [
            (match.start(), period)
            for period, words in PERIODS
            if (match := words.search(self.rest))
        ]
        said = min(said_at)[1] if said_at else None
        if said or re.search(r"月\s*\d", self.plain):  # "11月30号" is a day, not a month
            return said
        month = self.month_named()
        today = timezone.localdate()
        if month and month[0] == today.replace(day=1):
            return "this_month"
        if month and month[1] == today.replace(day=1) - timedelta(days=1):
            return "last_month"
        return None

    def name_no_customer_has(self) -> str | None:
        """ "鸿达那边的订单", "Hongda's orders": words where a customer's name stands that name no
        customer. They go to the tool, which says so, instead of being dropped (every order
        listed as if no customer had been named)."""
        if self.entities.mentions or self.period() or self.order_status():
            return None
        match = NAMED_OWNER.search(self.rest)
        if not match:
            return None
        name = OWNER_FILLER.sub("", next(group for group in match.groups() if group))
        if len(name) < 2 or name in NOT_A_NAME:
            return None
        return name

    def order_status(self) -> str | None:
        """The sales-order status the question filters by ("挂起的订单", "orders on hold")."""
        for status, words in ORDER_STATUS_WORDS:
            if words.search(self.rest):
                return status
        return None

    def same_question(self) -> Understanding | None:
        """ "LX20260032 呢" / "那永盛那边呢": the last request again for the record named now,
        when the message asks nothing else."""
        last_tool = self.context.get("last_tool")
        params = dict(self.context.get("last_params") or {})
        if not last_tool or not (FOLLOW_UP.search(self.plain) or NARROWED_AGAIN.search(self.plain)):
            return None
        if any(self.has(intent) for intent in INTENTS):
            return None
        e = self.entities
        customers = e.of("customer") or [m for m in e.mentions if "customer" in m.others]
        named_now = {
            "order_no": e.first("SO"),
            "sales_order": e.first("SO"),
            "po": e.first("PO"),
            "work_order": e.first("WO"),
            "ticket_no": e.first("ST"),
            "serial_no": self.entities.serials[0] if e.serials else None,
            "customer": self.customer(last_tool) if customers else None,
            "supplier": self.supplier(prefer=True),
        }
        changed = {param: value for param, value in named_now.items() if value and param in params}
        if changed:
            return self.tool(last_tool, **{**params, **changed})
        # Another kind of record the same question takes ("WO-… 进度" then "SO-… 的呢"):
        # it replaces the record asked about before.
        takes = get_tool(last_tool).Params.model_fields
        other = {param: value for param, value in named_now.items() if value and param in takes}
        if len(other) == 1:
            kept = {param: value for param, value in params.items() if param not in named_now}
            return self.tool(last_tool, **{**kept, **other})
        return None

    def same_listing_narrowed(self) -> Understanding | None:
        """ "上个月的呢" / "只看这周的" right after a list of orders: the same list for that
        period or state, for the same customer."""
        last_tool = self.context.get("last_tool")
        if self.entities.mentions or self.entities.numbers:
            return None
        narrowed = NARROWED_AGAIN.search(self.plain)
        if last_tool == "service_ticket_status" and self.has(OPEN_ONLY) and narrowed:
            params = dict(self.context.get("last_params") or {})  # "只看没 close 的"
            return self.tool(last_tool, **{**params, "open_only": True})
        if last_tool != "sales_order_status":
            return None
        period, status = self.period(), self.order_status()
        if not (period or status) or not NARROWED_AGAIN.search(self.plain):
            return None
        params = dict(self.context.get("last_params") or {})
        params.pop("order_no", None)
        if period:
            params["period"] = period
        if status:
            params["status"] = status
        return self.tool(last_tool, **params)

    def stock_listing_narrowed(self) -> Understanding | None:
        """ "just the nozzles" after a warehouse's stock, "only the ones that are completely
        out" after the low-stock report: the same list of one kind, or of empty items."""
        last_tool = self.context.get("last_tool")
        params = dict(self.context.get("last_params") or {})
        if last_tool not in CROSSED_SLOTS or params.get("item") or self.entities.numbers:
            return None
        if not NARROWED_AGAIN.search(self.plain) or self.entities.of("warehouse"):
            return None
        if any(mention.kind != "item" for mention in self.entities.mentions):
            return None
        category = self.category_named()
        empty = last_tool == "low_stock_report" and self.has(ZERO_STOCK)
        if not (category or empty):
            return None
        if category:
            params["category"] = category
        if empty:
            params["mode"] = "zero"
        if ALL_WAREHOUSES.search(self.plain):
            params.pop("warehouse", None)  # "what's out of stock entirely, anywhere?"
        return self.tool(last_tool, **params)

    def records_told(self) -> dict[str, Any]:
        """The records a message names that asks nothing ("SO-2026-0012 的客户要20片保护镜"),
        each only when the words fit one, for the next message to point back to."""
        e = self.entities
        told: dict[str, Any] = {}
        for prefix, key in (
            ("SO", "order_no"),
            ("WO", "work_order"),
            ("PO", "po"),
            ("ST", "ticket_no"),
        ):
            if e.first(prefix):
                told[key] = e.first(prefix)
        if e.serials:
            told["serial_no"] = e.serials[0]
        groups = self.item_groups()
        if groups and len(groups[0].values) == 1:
            told["item"] = groups[0].values[0]
        customer = self.one_customer() if e.of("customer") else None
        warehouse = self.warehouse()
        told.update(
            {
                key: value
                for key, value in (("customer", customer), ("warehouse", warehouse))
                if value
            }
        )
        return told

    def listing_elsewhere(self) -> Understanding | None:
        """ "sz?" after the low-stock report of main, "全部仓库的" after a reorder plan of
        main: the same list for another warehouse or for all of them."""
        last_tool = self.context.get("last_tool")
        e = self.entities
        if last_tool not in WAREHOUSE_LISTS or e.numbers or e.serials:
            return None
        if any(m.kind != "warehouse" for m in e.mentions) or any(map(self.has, INTENTS)):
            return None
        key = WAREHOUSE_LISTS[last_tool]
        params = dict(self.context.get("last_params") or {})
        if ALL_WAREHOUSES.search(self.plain):
            params.pop(key, None)
        elif key == "warehouse" and e.of("warehouse"):
            params[key] = e.of("warehouse")[0].values[0]
        else:
            return None
        return self.tool(last_tool, **params)

    def same_report_again(self) -> Understanding | None:
        """ "上季度的也来一份" after a sales report, "算了，只要备件仓的" after a reorder plan:
        the same report for another period or other warehouses."""
        last_tool = self.context.get("last_tool")
        e = self.entities
        if last_tool not in REPORT_TOOLS or e.numbers or e.serials:
            return None
        if any(map(self.has, INTENTS)):
            return None
        if any(m.kind != "warehouse" for m in e.mentions) and not self.kind_marked():
            return None
        params = dict(self.context.get("last_params") or {})
        if last_tool == "sales_report":
            month, period = self.month_named(), self.period()
            if not (month or period):
                return None
            params = {"start": str(month[0]), "end": str(month[1])} if month else {"period": period}
        elif last_tool == "inventory_valuation_report" and self.kind_marked():
            params["category"] = self.kind_marked()  # "same thing but just for the nozzles"
            if ALL_WAREHOUSES.search(self.plain):
                params.pop("warehouses", None)
        else:
            warehouses = [mention.values[0] for mention in e.of("warehouse")]
            if not warehouses:
                return None
            if self.has(QUOTE_ADD):  # "add the spare parts warehouse to it"
                earlier = params.get("warehouses") or []
                warehouses = [*earlier, *(code for code in warehouses if code not in earlier)]
            params["warehouses"] = warehouses
        return self.tool(last_tool, **params)

    def quote_changed(self) -> Understanding | None:
        """A change to the quote just staged: "再加一台冷水机" adds a line, "改成三台" sets the
        quantity of its only line."""
        if self.context.get("last_tool") != "create_sales_quote":
            return None
        params = dict(self.context.get("last_params") or {})
        lines = [dict(line) for line in params.get("lines") or []]
        if not lines and params.get("customer") and self.item_groups():
            return self.quote(params["customer"])  # "need a quote for Haiyang" then its lines
        if not lines:
            return None
        qty = self.qty()
        if self.has(MORE_OF_IT) and len(lines) == 1 and not self.entities.of("item"):
            # "quote C005 one 6kw cutting machine" then "actually add 2 more": 3 of it.
            more = self.more_count()
            if more:
                params["lines"] = [
                    {**lines[0], "qty": plain_number(Decimal(str(lines[0]["qty"])) + more)}
                ]
                return self.tool("create_sales_quote", **params)
        if self.has(QUOTE_ADD):
            item = self.item(True, "create_sales_quote", params)
            if not item:
                return None
            params["lines"] = [*lines, {"item": item, "qty": qty or 1}]
            return self.tool("create_sales_quote", **params)
        if self.has(QUOTE_CHANGE) and qty and len(lines) == 1:
            params["lines"] = [{**lines[0], "qty": qty}]
            return self.tool("create_sales_quote", **params)
        return None

    def more_count(self) -> Decimal | None:
        """The N of "add 2 more" / "再加两台"."""
        if self.entities.quantities:
            return self.entities.quantities[0][0]
        match = re.search(r"(\d+) more|再加\s*(\d+)", self.plain)
        return Decimal(next(group for group in match.groups() if group)) if match else None

    def reservation_changed(self) -> Understanding | None:
        """A change to the reservation just staged: "改成主仓" moves it, "make it 25" sets
        its quantity, another item replaces its item."""
        if self.context.get("last_tool") != "reserve_stock" or not self.has(QUOTE_CHANGE):
            return None
        params = dict(self.context.get("last_params") or {})
        if not params.get("item"):
            return None
        warehouse, qty = self.warehouse(), self.qty() or self.bare_number()
        item = self.item(False, "reserve_stock", params) if self.entities.of("item") else None
        if not (warehouse or qty or item):
            return None
        changes = {"warehouse": warehouse, "qty": qty, "item": item}
        params.update({key: value for key, value in changes.items() if value})
        return self.tool("reserve_stock", **params)

    def bare_number(self) -> int | float | None:
        """A number alone ("make it 25"), when nothing else is numbered."""
        numbers = re.findall(r"(?<![\w.-])(\d+(?:\.\d+)?)(?![\w.-])", self.rest)
        return plain_number(Decimal(numbers[0])) if len(numbers) == 1 else None

    def declared_tool(self) -> Understanding | None:
        """A tool without rules of its own, named by a trigger word of its examples."""
        load_tools()
        for name, tool in sorted(REGISTRY.items()):
            # Every tool, usable or not: one the user may not use gets its own refusal.
            if name in OWN_RULES:
                continue
            triggers = trigger_words(tool, self.vocabulary, GRAMMAR)
            if any(self.has_word(word) for word in triggers):
                params: dict[str, Any] = {}
                for param, kind in tool.slots.items():
                    params[param] = self.record_of(kind, name, params)
                return self.tool(name, **params)
        return None

    def has_word(self, word: str) -> bool:
        if word.isascii():
            return bool(re.search(rf"\b{re.escape(word)}\b", self.rest))
        return word in self.rest

    def record_of(self, kind: str, tool: str, params: dict[str, Any]) -> str | None:
        """The one record of this kind the message names, for `tool`'s parameter."""
        if kind == "item":
            return self.item(True, tool, params)
        if kind == "warehouse":
            return self.warehouse()
        if kind == "customer":
            return self.customer(tool)
        if kind == "supplier":
            return self.supplier(prefer=True)
        if kind == "serial":
            return self.serial()
        if kind in DOCUMENT_PREFIX:
            return self.entities.first(DOCUMENT_PREFIX[kind])
        return None

    def choice(self) -> Understanding | None:
        """A bare number or place answering our last ask-back ("2", "第三个", "the second
        one")."""
        choices = self.context.get("choices") or []
        if not choices:
            return None
        match = re.fullmatch(r"(?:第)?\s*(\d{1,2})\s*(?:个|号)?\s*[?.。!！]?", self.plain)
        if match:
            index = int(match.group(1)) - 1
        elif CHOICE_BY_PLACE.fullmatch(ORDINAL.sub(" ", self.plain)):
            index = self.ordinal()
            index = len(choices) - 1 if index == -1 else index
        else:
            return None
        if index is None or not 0 <= index < len(choices):
            return None
        tool = self.context.get("last_tool") or "check_inventory_stock"
        params = dict(self.context.get("last_params") or {})
        slot = self.context.get("choice_slot") or "item"
        if tool == "create_sales_quote":
            lines = [
                {**line, "item": choices[index]} if line.get("item") is None else line
                for line in params.get("lines", [])
            ]
            params["lines"] = lines
        elif tool == "find_product":
            params["query"] = choices[index]
        else:
            params[slot] = choices[index]
        return self.tool(tool, **params)

    def choice_described(self) -> Understanding | None:
        """The one of the items just offered that the message describes ("the 6000W one",
        "the 1.5 single one"): each number and each word of the message that names some of
        them must be in its names."""
        choices = self.context.get("choices") or []
        if len(choices) < 2 or self.entities.serials:
            return None
        mentions = self.entities.mentions
        if mentions and all(mention.kind == "item" for mention in mentions):
            # "单层的" after "NZ-D1.5 or NZ-S1.5?": a word naming several items, one offered.
            named = set.intersection(*(set(mention.values) for mention in mentions))
            offered = [sku for sku in choices if sku in named]
            return self.chosen(offered[0]) if len(offered) == 1 else None
        if mentions:
            return None
        texts = {
            sku: normalize(text)
            for sku, text in Item.objects.filter(sku__in=choices).values_list("sku", "search_text")
        }
        words = [
            word
            for word in re.findall(r"[a-z]{3,}|[\u4e00-\u9fff]{2,}", self.rest)
            if any(word in text for text in texts.values())
        ]
        if not (self.numbers or words):
            return None
        kept = [
            sku
            for sku in choices
            if all(self.has_number(texts.get(sku, ""), number) for number in self.numbers)
            and all(word in texts.get(sku, "") for word in words)
        ]
        return self.chosen(kept[0]) if len(kept) == 1 else None

    def chosen(self, sku: str) -> Understanding:
        """The request asked back about, with the item chosen."""
        tool = self.context.get("last_tool") or "check_inventory_stock"
        params = dict(self.context.get("last_params") or {})
        params[self.context.get("choice_slot") or "item"] = sku
        return self.tool(tool, **params)

    def by_number(self) -> Understanding | None:
        e = self.entities
        if e.first("WO"):
            return self.tool("production_progress", work_order=e.first("WO"))
        if e.first("ST"):
            return self.tool("service_ticket_status", ticket_no=e.first("ST"))
        if e.first("PO"):
            return self.tool("purchase_order_status", po=e.first("PO"))
        order = e.first("SO")
        if order:
            if self.has(PRODUCTION) or (self.has(PRODUCTION_TICKET) and not self.has(SERVICE)):
                if not self.has(PRODUCTION_NAMED) and not self.built_for(order):
                    return self.tool("sales_order_status", order_no=order)  # "到哪一步了"
                return self.tool("production_progress", sales_order=order)
            if self.has(SERVICE):
                return None
            return self.tool("sales_order_status", order_no=order)
        return None

    def by_serial(self) -> Understanding:
        serial = self.serial()
        if self.has(WARRANTY):
            return self.tool("machine_warranty_lookup", serial_no=serial)
        if self.has(PRODUCTION_TICKET) and not self.has(SERVICE):
            # A machine's "工单": its work order, or its ticket for one who sees only tickets.
            tools = self.tool_names
            if tools is not None and "production_progress" not in tools:
                return self.tool("service_ticket_status", serial_no=serial)
            return self.tool("production_progress", serial_no=serial)
        if self.has(PRODUCTION):
            return self.tool("production_progress", serial_no=serial)
        if self.has(SERVICE) or TICKET_READ.search(self.plain) or self.has(SERIAL_TICKET):
            open_only = self.has(OPEN_ONLY)
            return self.tool("service_ticket_status", serial_no=serial, open_only=open_only)
        if self.has(OPEN_ONLY) and self.sees("service_ticket_status"):
            # "anything still open on LX20250012?": what is open on a machine is its tickets.
            return self.tool("service_ticket_status", serial_no=serial, open_only=True)
        if self.being_built(serial):
            return self.tool("production_progress", serial_no=serial)
        return self.tool("machine_warranty_lookup", serial_no=serial)

    @staticmethod
    def built_for(order: str) -> bool:
        """Whether a sales order has work orders: how far it is, asked without naming
        production ("SO-2026-0014 到哪一步了"), is then how far they are, else the order's."""
        return WorkOrder.objects.filter(sales_order__number=order).exists()

    @staticmethod
    def being_built(serial: str | None) -> bool:
        """A serial no delivered machine has yet, only a work order: the machine is being
        built ("LX20260024 跟 LX20260032 哪台进度快"), so the question is about production."""
        if not serial or SerialNumber.objects.filter(serial=serial).exists():
            return False
        return WorkOrder.objects.filter(serial_no=serial).exists()

    def open_ticket(self) -> Understanding:
        # "LX20260003 的服务单" then "再开一张培训单：…": that machine (the preview says so).
        serial = self.serial() or (self.context.get("last_params") or {}).get("serial_no")
        complaint = self.complaint()
        category = next(
            (name for name, words in CATEGORY_WORDS if words.search(self.rest_with_items)), ""
        )
        priority = "normal"
        if URGENT.search(self.rest):
            priority = "urgent"
        elif LOW_PRIORITY.search(self.rest):
            priority = "low"
        elif HIGH.search(self.rest):
            priority = "high"
        partial = {"serial_no": serial, "complaint": complaint}
        if not serial:
            raise self.ask("serial_no", tool="open_service_ticket", params=partial)
        if not complaint:
            raise self.ask("complaint", tool="open_service_ticket", params=partial)
        return self.tool(
            "open_service_ticket",
            serial_no=serial,
            complaint=complaint,
            category=category or "repair",
            priority=priority,
        )

    def complaint(self) -> str:
        """The problem as the user put it, without the request around it; the words in
        quotes when the user quoted them ("故障写“导轨异响加重，X轴抖动”")."""
        quoted = QUOTED.findall(self.original)  # as typed: "，" stays a Chinese comma
        if len(quoted) == 1 and len(quoted[0].strip()) >= 2:
            return re.sub(r"\s+", " ", quoted[0]).strip()
        after_request = self.said_after_the_request()
        if after_request:
            return after_request
        text = re.sub(r"\s+", " ", normalize_keep_case(self.original))
        text = PRIORITY_SAID.sub(" ", text)  # "打标不清楚帮忙开单优先级高": not the complaint
        text = re.sub(r"(?<![A-Za-z0-9])[Ll] ?[Xx]\s*-?\s*\d{4}\s?\d{4}(?!\d)", " ", text)
        for serial in self.entities.serials:
            text = re.sub(re.escape(serial), " ", text, flags=re.IGNORECASE)
        segments = []
        # Chinese staff separate the parts of a message with spaces too.
        parts = r"[,，;；:：。!！?？\n]+|\s-\s|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])"
        for segment in re.split(parts, text):
            segment = re.sub(r"\s+", " ", segment).strip()
            for _ in range(4):
                before = segment
                for noise in TICKET_NOISE:
                    segment = noise.sub("", segment).strip(" ,，.。")
                if segment == before:
                    break
            if len(segment) >= 2:
                segments.append(segment)
        joiner = "，" if self.language == "zh" else ", "
        return joiner.join(segments)

    def said_after_the_request(self) -> str | None:
        """ "开个 training 单：新员工要学焊接参数设置", "new ticket for LX20250012, high
        priority. issue: marking is blurry": what follows the colon after the request."""
        for mark in ("：", ":", " - ", " — ", " – "):
            request, colon, after = self.original.partition(mark)
            if colon:
                break
        if not colon or not OPEN_TICKET.search(normalize(request)):
            return None
        after = PRIORITY_SAID.sub(" ", after)
        after = re.sub(r"[\s,，。.!！]+$", "", re.sub(r"\s+", " ", after)).strip()
        # A clause comes normalised: a comma between Chinese words was a Chinese comma.
        after = re.sub(r"(?<=[\u4e00-\u9fff]),\s*(?=[\u4e00-\u9fff])", "，", after)
        return after if len(after) >= 2 else None

    def reserve(self) -> Understanding:
        partial: dict[str, Any] = {}
        warehouse = self.warehouse()
        # "主仓那台给我预留上": the machine pointed at is one.
        qty = self.qty() or (1 if THAT_MACHINE.search(self.rest) else None)
        order = self.entities.first("SO") or self.earlier("order_no")
        if not order and THAT_ORDER.search(self.plain):
            order = self.context.get("order_no")  # "给这张单预留一台" after the order
        partial = {"qty": qty, "warehouse": warehouse, "sales_order": order}
        item = self.item(True, "reserve_stock", partial) or self.context_item()
        if not item and self.context.get("last_tool") == "check_inventory_stock":
            item = self.context.get("item")  # "帮我预留5个" right after its stock
        if not item:
            raise self.ask("item", tool="reserve_stock", params=partial)
        partial["item"] = item
        if not qty:
            qty = self.bare_qty_before(self.item_groups())
            partial["qty"] = qty
        if not qty:
            raise self.ask("qty", tool="reserve_stock", params=partial)
        notes = []
        if not warehouse:
            warehouse, why = self.default_warehouse(item, qty)
            partial["warehouse"] = warehouse
            if warehouse:
                notes.append(self.default_note(why, warehouse))
        if not warehouse:
            raise self.ask("warehouse", tool="reserve_stock", params=partial)
        reservation = self.tool(
            "reserve_stock", item=item, qty=qty, warehouse=warehouse, sales_order=order
        )
        reservation.notes = notes
        return reservation

    def default_warehouse(self, item: str, qty: float) -> tuple[str | None, str]:
        """The warehouse a colleague would reserve from when none is said: the one just
        talked about if it has enough, else the only one that has; none when several or
        none do (then the user is asked). Returns it with why, for the confirmation."""
        enough = self.vocabulary.warehouses_with(item, qty)
        talked_about = self.context.get("warehouse")
        if talked_about in enough:
            return talked_about, "warehouse_talked_about"
        if len(enough) == 1:
            return enough[0], "only_warehouse_with_enough"
        return None, ""

    def default_note(self, why: str, warehouse: str) -> str:
        known = self.vocabulary.warehouses.get(warehouse)
        name = (known.name_zh or known.name) if known and self.language == "zh" else ""
        if known and self.language != "zh":
            name = known.name
        return replies.default_used(why, f"{warehouse} {name}".strip(), self.language)

    def quote(self, customer: str | None = None) -> Understanding:
        customer = (
            customer
            or self.customer("create_sales_quote")
            or self.earlier("customer")
            or self.customer_text()
        )
        groups = self.item_groups() or [group for group in [self.by_power()] if group]
        quantities = list(self.entities.quantities)
        lines = []
        for index, group in enumerate(groups):
            if len(group.values) != 1:
                shortlist = self.shortlist(group)
                candidates = self.vocabulary.item_labels(shortlist, self.language)
                params = {"customer": customer, "lines": lines + [{"item": None, "qty": 1}]}
                raise Ask(
                    replies.ambiguous(group.text, candidates, self.language, len(group.values)),
                    candidates,
                    tool="create_sales_quote",
                    params=params,
                    choices=shortlist,
                    slot="item",
                )
            next_start = groups[index + 1].start if index + 1 < len(groups) else 10**6
            previous_end = groups[index - 1].end if index else -1
            qty = None
            for value, position in quantities:
                if previous_end <= position < group.start or group.end <= position < next_start:
                    qty = plain_number(value)
                    quantities.remove((value, position))
                    break
            if qty is None:
                qty = self.bare_qty_before([group])
            lines.append({"item": group.values[0], "qty": qty or 1})
        item_before = (
            self.context.get("item") if self.context.get("last_tool") in ITEM_TOOLS else None
        )
        if not lines and (self.context_item() or item_before):
            # "LM-F30 标价多少" then "行，给无锡金宇报两台": the item just asked about.
            qty = plain_number(quantities[0][0]) if quantities else 1
            lines.append({"item": self.context_item() or item_before, "qty": qty})
        if not customer:
            raise self.ask("customer", tool="create_sales_quote", params={"lines": lines})
        if not lines:
            raise self.ask("quote_lines", tool="create_sales_quote", params={"customer": customer})
        return self.tool("create_sales_quote", customer=customer, lines=lines)

    def bare_qty_before(self, groups: list[Mention]) -> int | None:
        """A number written right before an item ("reserve 2 PW-D37-T7", "50 CR-32")."""
        if not groups:
            return None
        match = BARE_QTY.search(self.rest[max(0, groups[0].start - 12) : groups[0].start])
        return int(match.group(1)) if match else None

    def customer_text(self) -> str | None:
        patterns = [
            r"给(.{2,16}?)(报价|报个价|报一下价|出个价|做个价|做个报价|出个报价|做一份|做个|出一份)",
            r"客户[:：\s]*(?!报|要|的|说|问)([^\s,，的]{2,16})",
            r"\bfor ([a-z][\w .&-]{1,40}?)(?:[,:]|$| with| of)",
        ]
        for pattern in patterns:
            match = re.search(pattern, self.rest)
            if match and match.group(1).strip() and not NO_CUSTOMER.fullmatch(match.group(1)):
                return match.group(1).strip()
        return None

    def category_named(self) -> str | None:
        """The kind of item the message names: "any lenses", or a word that fits several
        items of one category ("喷嘴", "nozzles")."""
        words = CATEGORY_WORDS_EN.search(self.plain)
        if words:
            return CATEGORY_OF_WORD[words.group(1)]
        groups = self.item_groups()
        if not groups or len(groups[0].values) < 2:
            return None
        categories = {item.category for item in self.vocabulary.items(groups[0].values).values()}
        return categories.pop() if len(categories) == 1 and categories != {"other"} else None

    def kind_marked(self) -> str | None:
        """The kind of item named: as a kind ("nozzles", "喷嘴"), or one item's kind said as
        such ("激光器这一类")."""
        category = self.category_named()
        groups = self.item_groups()
        if category or not groups or not CATEGORY_MARK.search(self.rest):
            return category
        categories = {item.category for item in self.vocabulary.items(groups[0].values).values()}
        return categories.pop() if len(categories) == 1 else None

    def low_stock(self) -> Understanding | None:
        groups = self.item_groups()
        mode = "zero" if self.has(ZERO_STOCK) else "below_reorder"
        category = None
        words = CATEGORY_WORDS_EN.search(self.plain)
        if words:
            category = CATEGORY_OF_WORD[words.group(1)]  # "any lenses", "nozzles"
        elif groups:
            skus = groups[0].values
            kind_of_item = CATEGORY_MARK.search(self.rest)  # "激光器类": the category
            if len(skus) == 1 and not kind_of_item:
                return self.tool("check_inventory_stock", item=skus[0], warehouse=self.warehouse())
            categories = {item.category for item in self.vocabulary.items(skus).values()}
            if len(categories) == 1:
                category = categories.pop()
        return self.tool(
            "low_stock_report", warehouse=self.warehouse(), category=category, mode=mode
        )

    def purchase(self) -> Understanding:
        groups = self.item_groups()
        if groups and len(groups[0].values) == 1 and self.attached_numbers(groups[0]):
            # "锐科1500W的源": a supplier's name with a size or power is one of its items.
            return self.tool("purchase_order_status", item=groups[0].values[0])
        supplier = self.supplier(prefer=True)
        if supplier:
            return self.tool("purchase_order_status", supplier=supplier)
        item = self.item(True, "purchase_order_status", {})
        if item:
            return self.tool("purchase_order_status", item=item)
        # "有没有 open PO 在补" right after an item: orders replenishing that item.
        replenishing = REPLENISHING.search(self.plain)
        follows_item = self.context.get("last_tool") in ITEM_TOOLS and (
            replenishing or not self.has(EVERY_ORDER)
        )
        if self.context.get("item") and (FOLLOW_UP.search(self.plain) or follows_item):
            return self.tool("purchase_order_status", item=self.context["item"])
        if self.context_item():
            return self.tool("purchase_order_status", item=self.context_item())  # "when's it due"
        return self.tool("purchase_order_status")

    def follow_up(self) -> Understanding | None:
        """ "那深圳仓呢?" / "and in sz?": the last request again with the new record."""
        last_tool = self.context.get("last_tool")
        declared = get_tool(last_tool) if last_tool else None
        if declared is None or not declared.slots:
            return None
        if self.has(STOCK) and last_tool != "check_inventory_stock":
            return None
        if self.has(FIND) and not self.asks_availability_of_one() and last_tool != "find_product":
            return None  # "LS-RC-3000 是什么" after a stock question asks what it is
        if self.has(WAREHOUSE_LIST) or self.stock_parts():
            return None  # "备件仓都有啥": the warehouse's list, not the last item in it
        slots = declared.slots
        if not self.continues(declared):
            return None
        if last_tool == "find_product":
            # "LM-F30 多少钱" then "那紫外的呢": the other item's card.
            item = self.item(True, last_tool, {}) if self.entities.of("item") else None
            return self.tool("find_product", query=item) if item else None
        params = dict(self.context.get("last_params") or {})
        if last_tool not in CROSSED_SLOTS:
            # A purchase order's po, item and supplier are each the subject: a new one
            # replaces the old ("PO-2026-0003 到了没" then "聚焦镜的呢").
            params = {key: value for key, value in params.items() if key not in slots}
        changed = False
        warehouse = self.warehouse()
        if warehouse and "warehouse" in slots:
            params["warehouse"] = warehouse
            changed = True
        takes = declared.Params.model_fields
        if self.entities.of("item") and "item" in slots:
            params["item"] = self.item(True, last_tool, params)
            changed = True
        elif "item" in slots and (other := self.same_kind_with_numbers(params.get("item"))):
            # "冷水机 CHL-3000 主仓还有几台" then "那 6000W 的呢": the 6 kW chiller.
            params["item"] = other
            changed = True
        elif "category" in takes and "item" not in takes and self.category_named():
            params["category"] = self.category_named()  # "only nozzles" after the report
            changed = True
        if (
            re.search(
                r"所有仓|全部仓|各仓|每个仓|其他仓|别的仓|all warehouses|everywhere|elsewhere|"
                r"other warehouses|总共|一共|in total|overall",
                self.rest,
            )
            and "warehouse" in params
            and last_tool == "check_inventory_stock"
        ):
            params.pop("warehouse")
            changed = True
        if not changed:
            return None
        if last_tool == "find_product":
            return None
        return self.tool(last_tool, **params)

    def last_asked_about(self, item: str) -> bool:
        """Whether the last request was about this one item (not a list of several)."""
        if self.context.get("last_tool") not in ITEM_TOOLS:
            return False
        last = self.context.get("last_params") or {}
        return item in (last.get("item"), last.get("query"))

    def continues(self, declared: Any) -> bool:
        """Whether the message goes on with the last request: it says so ("那…呢", "and
        …?"), or names only records that request takes and asks nothing of its own
        ("只看备件仓"). "CHL3000 主仓" after a purchase order names a warehouse no
        purchase order takes; "protective windows in spare?" asks its own question."""
        kinds = {mention.kind for mention in self.entities.mentions}
        taken = set(declared.slots.values())
        if "category" in declared.Params.model_fields and self.category_named():
            taken.add("item")  # a kind of item: "only nozzles" after the low-stock report
        if kinds - taken:
            return False
        if FOLLOW_UP.search(self.plain):
            return True
        return not any(words.search(self.rest) for words in CLAUSE_ASKS)

    def stock_or_find(self) -> Understanding:
        warehouse = self.warehouse()
        stock_words = self.has(STOCK)
        wants_find = (
            self.has(FIND)
            and not warehouse
            and not re.search(r"库存|存货|现货|有货|\bstock|inventory|how many|on hand", self.rest)
        )
        if wants_find and self.asks_availability_of_one():
            wants_find = False
        if wants_find:
            product = self.product_named()
            if product:
                return self.tool("find_product", query=product)
            if not FIND.search(WHAT_IS.sub(" ", self.rest)):
                return Understanding("unknown")  # "what's the USD rate": no product named
            query = self.leftover_words()
            if not ATTRIBUTE_FILLER.sub("", query) and self.context.get("item"):
                # "what's the list price" right after a question about an item: its card.
                return self.tool("find_product", query=self.context["item"])
            if query:
                return self.tool("find_product", query=self.sku_misspelt(query) or query)
            raise self.ask("item", tool="find_product")
        kind = KIND_ASKED_EN.search(self.plain)
        if kind and not self.numbers:
            # "any laser sources in stock in main": every item of the kind, not its default.
            category = CATEGORY_OF_WORD[kind.group(1)]
            return self.tool("check_inventory_stock", category=category, warehouse=warehouse)
        parts = self.stock_parts()
        if parts:
            return self.tool("check_inventory_stock", **parts[0], warehouse=warehouse)
        item = self.item(True, "check_inventory_stock", {"warehouse": warehouse})
        if item:
            return self.tool("check_inventory_stock", item=item, warehouse=warehouse)
        if warehouse:
            subject = self.context.get("item")
            follows_item = subject and self.last_asked_about(subject)
            if follows_item and not self.has(WAREHOUSE_LIST):
                # "how many in spare" right after a question about one item: that item.
                return self.tool("check_inventory_stock", item=subject, warehouse=warehouse)
            if stock_words or self.has(WAREHOUSE_LIST):
                return self.tool("check_inventory_stock", warehouse=warehouse)
            if self.context.get("item"):
                return self.tool(
                    "check_inventory_stock", item=self.context["item"], warehouse=warehouse
                )
            if self.asks_beyond_the_place():
                return Understanding("unknown")  # "帮我订张去深圳的机票": a city, not stock
            return self.tool("check_inventory_stock", warehouse=warehouse)
        points_back = re.search(r"它|这个|那个|该|\bit\b|\bthat\b|\bthis\b|呢|还有|那", self.rest)
        follows_item = self.context.get("last_tool") in ITEM_TOOLS and not self.entities.mentions
        if stock_words and self.context.get("item") and (points_back or follows_item):
            # "how many in stock" right after "what is LM-F30": that item.
            return self.tool("check_inventory_stock", item=self.context["item"])
        if stock_words and re.search(r"库存|\bstock\b|inventory", self.rest):
            raise self.ask("item", tool="check_inventory_stock", params={})
        return Understanding("unknown")

    def asks_beyond_the_place(self) -> bool:
        """Whether a message naming only a warehouse says more than the place ("深圳仓呢",
        "sz" say nothing more; "明天深圳天气" does)."""
        words = PLACE_FILLER.sub(" ", self.leftover_words())
        return bool(re.search(r"[\u4e00-\u9fff]{2,}|[a-z]{3,}", words))

    def product_named(self) -> str | None:
        """The product the message names: its SKU, or the words when they fit several."""
        groups = self.item_groups() or [group for group in [self.by_power()] if group]
        if not groups:
            return None
        return groups[0].values[0] if len(groups[0].values) == 1 else groups[0].text

    def asks_availability_of_one(self) -> bool:
        """ "D37 F150的聚焦镜有没有", "do we have the 2kw handheld welder": whether we have
        it in stock, when the words name one item and ask nothing else of it."""
        if not self.has(AVAILABILITY) or FIND.search(AVAILABILITY.sub(" ", self.rest)):
            return False
        groups = self.item_groups()
        return bool(groups) and len(groups[0].values) == 1

    def context_item(self) -> str | None:
        if re.search(r"它|这个|那个|该|\bit\b|\bthat\b|\bthis\b|them", self.rest):
            return self.context.get("item")
        return None

    @staticmethod
    def sku_misspelt(query: str) -> str | None:
        """The SKU a code-like word is one letter off ("SV-INSTAL" for SV-INSTALL)."""
        words = [word for word in query.split() if CODE_TOKEN.fullmatch(word) and "-" in word]
        if len(words) != 1:
            return None
        code = names.compact_code(words[0])
        found = {
            sku
            for length in (len(code) - 1, len(code), len(code) + 1)
            for text, sku in names.names_like(code[0], length)
            if OSA.distance(text, code) == 1
        }
        return found.pop() if len(found) == 1 else None

    def leftover_words(self) -> str:
        text = self.rest
        # "有没有 open PO": a state of documents, never a product's name.
        for pattern in (FIND, CUSTOMER, STOCK, OPEN_ONLY):
            text = pattern.sub(" ", text)
        text = re.sub(
            r"\b(do|we|you|have|has|any|a|an|the|for|of|me|please|pls|is|are|there|some|what|"
            r"which|show|tell|about|info|information|details?|check|exactly|really|who's|whos|who|"
            r"there|its|it|and|or|their|them|this|that|can|could|pull|up|too|also|record|does|do|"
            r"card|the)\b",
            " ",
            text,
        )
        text = re.sub(
            r"(查一下|查下|查查|查|请问|帮我|帮忙|发给我|发我|给我|告诉我|告诉|来着|一下|看看|看下|调出来|"
            r"拉出来|发过来|你|把|这|那|它|的|吗|呢|啊|吧|是|谁|哪个|什么|个)",
            " ",
            text,
        )
        # "多少钱一台": a unit count asks the price of one, it names nothing.
        text = re.sub(r"[一两二三四五六七八九十\d]+\s*[台套片只件支]", " ", text)
        text = re.sub(r"[\s,，.。?？!！:：]+", " ", text).strip()
        return text


def normalize_keep_case(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text or "").strip()
