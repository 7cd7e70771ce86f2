"""A large company on top of the demo one, to measure how the assistant scales (seed_scale).

Deterministic: record k of each kind depends only on the seed, k and the sizes asked for (and
an order's date on the day of the run). Its random numbers come from one random.Random per
CHUNK records, so a run can start at any chunk.
Idempotent: rows are found by natural key and only the missing ones are bulk-created, so the
same sizes add nothing and larger sizes add the difference.

Stock follows the ledger rule of apps.inventory.services (a StockLevel's actual_qty is the sum
of its StockMoves): every stocked row gets one opening-balance move.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models.signals import post_save

from apps.inventory.models import Item, ReorderRule, StockLevel, StockMove, Warehouse
from apps.purchasing.models import Supplier
from apps.reporting.models import AREAS, bump
from apps.sales.models import Customer, SalesOrder, SalesOrderLine

CHUNK = 2000  # records per random stream, and per round of bulk_create
BATCH = 2000
CENT = Decimal("0.01")
SHANGHAI = ZoneInfo("Asia/Shanghai")
CUSTOMERS = 300
SUPPLIERS = 100
# Codes after the demo's C001…/S001…, still of the three digits the assistant reads as codes.
FIRST_PARTY_CODE = 100
# Sales orders get SO-<year>-<FIRST_ORDER_SEQ + k>: far above the yearly series the app
# continues (better_laser_erp.numbering), and unique whatever year an order falls in.
FIRST_ORDER_SEQ = 100001
SCALE_ORDER_NUMBER = r"^SO-[0-9]{4}-[0-9]{6,}$"
OPENING_VOUCHER = "SCALE-OPENING"


@dataclass(frozen=True)
class Sizes:
    items: int
    warehouses: int
    stock_rows: int
    orders: int
    customers: int = CUSTOMERS
    suppliers: int = SUPPLIERS


def default_stock_rows(items: int, warehouses: int) -> int:
    """A quarter of all item × warehouse pairs."""
    return items * warehouses // 4


def chunks(seed: int, kind: str, count: int) -> Iterator[tuple[random.Random, range]]:
    """The record numbers 0…count-1 in chunks, each with its own random stream."""
    for start in range(0, count, CHUNK):
        rng = random.Random(f"{seed}:{kind}:{start // CHUNK}")
        yield rng, range(start, min(start + CHUNK, count))


# --- Places: warehouses, customers and suppliers ---

# code, name_zh, name, province, telephone area code
CITIES = [
    ("hz", "杭州", "Hangzhou", "Zhejiang", "0571"),
    ("sh", "上海", "Shanghai", "Shanghai", "021"),
    ("gz", "广州", "Guangzhou", "Guangdong", "020"),
    ("bj", "北京", "Beijing", "Beijing", "010"),
    ("wh", "武汉", "Wuhan", "Hubei", "027"),
    ("cd", "成都", "Chengdu", "Sichuan", "028"),
    ("nj", "南京", "Nanjing", "Jiangsu", "025"),
    ("nb", "宁波", "Ningbo", "Zhejiang", "0574"),
    ("qd", "青岛", "Qingdao", "Shandong", "0532"),
    ("tj", "天津", "Tianjin", "Tianjin", "022"),
    ("fs", "佛山", "Foshan", "Guangdong", "0757"),
    ("dg", "东莞", "Dongguan", "Guangdong", "0769"),
    ("xa", "西安", "Xi'an", "Shaanxi", "029"),
    ("zz", "郑州", "Zhengzhou", "Henan", "0371"),
    ("cq", "重庆", "Chongqing", "Chongqing", "023"),
    ("cs", "长沙", "Changsha", "Hunan", "0731"),
    ("jn", "济南", "Jinan", "Shandong", "0531"),
    ("hf", "合肥", "Hefei", "Anhui", "0551"),
    ("xm", "厦门", "Xiamen", "Fujian", "0592"),
    ("fz", "福州", "Fuzhou", "Fujian", "0591"),
    ("wx", "无锡", "Wuxi", "Jiangsu", "0510"),
    ("cz", "常州", "Changzhou", "Jiangsu", "0519"),
    ("nt", "南通", "Nantong", "Jiangsu", "0513"),
    ("wz", "温州", "Wenzhou", "Zhejiang", "0577"),
    ("sy", "沈阳", "Shenyang", "Liaoning", "024"),
    ("dl", "大连", "Dalian", "Liaoning", "0411"),
    ("nc", "南昌", "Nanchang", "Jiangxi", "0791"),
    ("km", "昆明", "Kunming", "Yunnan", "0871"),
    ("nn", "南宁", "Nanning", "Guangxi", "0771"),
    ("ty", "太原", "Taiyuan", "Shanxi", "0351"),
    ("sjz", "石家庄", "Shijiazhuang", "Hebei", "0311"),
    ("ts", "唐山", "Tangshan", "Hebei", "0315"),
    ("cc", "长春", "Changchun", "Jilin", "0431"),
    ("hrb", "哈尔滨", "Harbin", "Heilongjiang", "0451"),
    ("gy", "贵阳", "Guiyang", "Guizhou", "0851"),
    ("lz", "兰州", "Lanzhou", "Gansu", "0931"),
    ("qz", "泉州", "Quanzhou", "Fujian", "0595"),
    ("yt", "烟台", "Yantai", "Shandong", "0535"),
    ("wf", "潍坊", "Weifang", "Shandong", "0536"),
    ("zb", "淄博", "Zibo", "Shandong", "0533"),
    ("ly", "洛阳", "Luoyang", "Henan", "0379"),
    ("xy", "襄阳", "Xiangyang", "Hubei", "0710"),
    ("wuhu", "芜湖", "Wuhu", "Anhui", "0553"),
    ("jx", "嘉兴", "Jiaxing", "Zhejiang", "0573"),
    ("sx", "绍兴", "Shaoxing", "Zhejiang", "0575"),
    ("tz", "台州", "Taizhou", "Zhejiang", "0576"),
    ("jh", "金华", "Jinhua", "Zhejiang", "0579"),
    ("yz", "扬州", "Yangzhou", "Jiangsu", "0514"),
    ("xz", "徐州", "Xuzhou", "Jiangsu", "0516"),
    ("zs", "中山", "Zhongshan", "Guangdong", "0760"),
    ("zh", "珠海", "Zhuhai", "Guangdong", "0756"),
    ("jm", "江门", "Jiangmen", "Guangdong", "0750"),
    ("huiz", "惠州", "Huizhou", "Guangdong", "0752"),
    ("st", "汕头", "Shantou", "Guangdong", "0754"),
    ("bd", "保定", "Baoding", "Hebei", "0312"),
    ("ln", "临沂", "Linyi", "Shandong", "0539"),
    ("hhht", "呼和浩特", "Hohhot", "Inner Mongolia", "0471"),
    ("wlmq", "乌鲁木齐", "Urumqi", "Xinjiang", "0991"),
    ("yc", "银川", "Yinchuan", "Ningxia", "0951"),
    ("hk", "海口", "Haikou", "Hainan", "0898"),
]
# Suzhou and Shenzhen hold the demo's own warehouses (main, spare, sz): no branch there.
CUSTOMER_CITIES = CITIES + [
    ("su", "苏州", "Suzhou", "Jiangsu", "0512"),
    ("sz", "深圳", "Shenzhen", "Guangdong", "0755"),
]
HUBS = 6  # the first cities' warehouses are regional hubs
DISTRICTS = ("经济开发区", "高新区", "工业园区", "临港新区", "物流园")

# prefix, name_zh suffix, name suffix, warehouse_type: one round through CITIES each.
WAREHOUSE_ROUNDS = [
    ("wh", "仓库", "warehouse", Warehouse.WarehouseType.MAIN),
    ("van", "服务车", "service van", Warehouse.WarehouseType.SERVICE_VAN),
    ("cs", "寄售仓", "consignment stock", Warehouse.WarehouseType.CONSIGNMENT),
    ("tr", "中转仓", "transit warehouse", Warehouse.WarehouseType.TRANSIT),
]


class WarehouseSpec(NamedTuple):
    code: str
    name: str
    name_zh: str
    kind: str
    address: str


def warehouse_spec(index: int) -> WarehouseSpec:
    """Branch warehouses city by city, then service vans, consignment and transit stock."""
    city_code, city_zh, city, _province, _area = CITIES[index % len(CITIES)]
    lap = index // len(CITIES)
    prefix, zh_suffix, suffix, kind = WAREHOUSE_ROUNDS[lap % len(WAREHOUSE_ROUNDS)]
    number = lap // len(WAREHOUSE_ROUNDS)
    tag = str(number + 1) if number else ""
    if kind == Warehouse.WarehouseType.MAIN and index >= HUBS:
        kind = Warehouse.WarehouseType.SPARE_PARTS
    return WarehouseSpec(
        code=f"{prefix}-{city_code}{tag}",
        name=f"{city} {suffix}{' ' + tag if tag else ''}",
        name_zh=f"{city_zh}{tag}{zh_suffix}",
        kind=kind,
        address=f"{city_zh}市{DISTRICTS[index % len(DISTRICTS)]}{index * 37 % 300 + 1}号",
    )


# Trade names no demo customer or supplier uses, so the demo's short names stay unique.
TRADE_NAMES = [
    ("宏达", "Hongda"), ("金盛", "Jinsheng"), ("华远", "Huayuan"), ("立信", "Lixin"),
    ("永固", "Yonggu"), ("晟泰", "Shengtai"), ("博远", "Boyuan"), ("鼎新", "Dingxin"),
    ("泰和", "Taihe"), ("嘉华", "Jiahua"), ("力拓", "Lituo"), ("联创", "Lianchuang"),
    ("精工", "Jinggong"), ("恒达", "Hengda"), ("三友", "Sanyou"), ("德润", "Derun"),
    ("华创", "Huachuang"), ("鑫源", "Xinyuan"), ("隆盛", "Longsheng"), ("天成", "Tiancheng"),
    ("国瑞", "Guorui"), ("明辉", "Minghui"), ("佳利", "Jiali"), ("金鼎", "Jinding"),
    ("盛达", "Shengda"), ("宏图", "Hongtu"), ("新锐", "Xinrui"), ("凯盛", "Kaisheng"),
    ("荣昌", "Rongchang"), ("欧科", "Ouke"), ("瑞丰", "Ruifeng"), ("浩宇", "Haoyu"),
    ("创美", "Chuangmei"), ("金辉", "Jinhui"), ("通力", "Tongli"), ("百盛", "Baisheng"),
    ("锦程", "Jincheng"), ("兴业", "Xingye"), ("富强", "Fuqiang"), ("远航", "Yuanhang"),
]  # fmt: skip
CUSTOMER_TRADES = [
    ("钣金", "Sheet Metal"), ("机械", "Machinery"), ("电气设备", "Electrical Equipment"),
    ("不锈钢制品", "Stainless Steel Products"), ("汽车零部件", "Auto Parts"),
    ("厨房设备", "Kitchen Equipment"), ("电梯配件", "Elevator Parts"), ("五金制品", "Hardware"),
    ("家具", "Furniture"), ("广告标识", "Signage"), ("机箱机柜", "Enclosures"),
    ("农业机械", "Agricultural Machinery"), ("健身器材", "Fitness Equipment"),
    ("钢结构", "Steel Structure"), ("医疗器械", "Medical Devices"),
    ("新能源科技", "New Energy Technology"), ("工程机械", "Construction Machinery"),
    ("精密制造", "Precision Manufacturing"), ("门业", "Doors"), ("照明电器", "Lighting"),
]  # fmt: skip
SUPPLIER_TRADES = [
    ("光学", "Optics"), ("激光科技", "Laser Technology"), ("精密机械", "Precision Machinery"),
    ("制冷设备", "Refrigeration Equipment"), ("电子", "Electronics"),
    ("气动元件", "Pneumatic Components"), ("线缆", "Cable"), ("精密陶瓷", "Precision Ceramics"),
    ("自动化", "Automation"), ("传动设备", "Transmission Equipment"),
    ("过滤设备", "Filtration Equipment"), ("工业气体", "Industrial Gases"),
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯邓曹彭"
GIVEN_NAMES = (
    "建国", "海峰", "志明", "丽", "伟", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰",
    "娟", "涛", "明", "超", "秀英", "华", "平", "刚", "晓东", "文斌", "国栋", "雅琳", "永健",
)  # fmt: skip
CREDIT_LIMITS = (100_000, 150_000, 200_000, 300_000, 500_000, 800_000, 1_000_000, 1_500_000)


class PartySpec(NamedTuple):
    code: str
    name: str
    name_zh: str
    territory: str
    contact_name: str
    contact_phone: str
    credit_limit: int


def party_specs(seed: int, kind: str, count: int) -> list[PartySpec]:
    """Customers ("C") or suppliers ("S"): distinct company names in Chinese cities."""
    rng = random.Random(f"{seed}:{kind}")
    trades = CUSTOMER_TRADES if kind == "C" else SUPPLIER_TRADES
    specs, seen = [], set()
    while len(specs) < count:
        city = rng.choice(CUSTOMER_CITIES)
        trade_zh, trade = rng.choice(TRADE_NAMES)
        line_zh, line = rng.choice(trades)
        name_zh = f"{city[1]}{trade_zh}{line_zh}有限公司"
        contact = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        phone = f"{city[4]}-{rng.randrange(2000, 9000)} {rng.randrange(10000):04d}"
        credit = rng.choice(CREDIT_LIMITS)
        if name_zh in seen:
            continue
        seen.add(name_zh)
        code = f"{kind}{FIRST_PARTY_CODE + len(specs)}"
        name = f"{city[2]} {trade} {line} Co., Ltd."
        specs.append(PartySpec(code, name, name_zh, city[3], contact, phone, credit))
    return specs


# --- The catalogue ---


class Brand(NamedTuple):
    code: str
    zh: str

    @property
    def lead(self) -> str:
        """The Chinese name, spaced off when it is a Latin one ("SMC 电磁阀")."""
        return f"{self.zh} " if self.zh.isascii() else self.zh


BRANDS = {
    "Raytools": Brand("RT", "嘉强"),
    "Precitec": Brand("PC", "普雷茨特"),
    "WSX": Brand("WSX", "万顺兴"),
    "Au3tech": Brand("AU", "奥森迪科"),
    "BLT": Brand("BLT", "贝特"),
    "II-VI": Brand("IIVI", "贰陆"),
    "Raycus": Brand("RC", "锐科"),
    "Max": Brand("MX", "创鑫"),
    "IPG": Brand("IPG", "IPG"),
    "JPT": Brand("JPT", "杰普特"),
    "Hanli": Brand("HL", "汉力"),
    "S&A": Brand("SA", "特域"),
    "Tongfei": Brand("TF", "同飞"),
    "Friendess": Brand("FR", "柏楚"),
    "Omron": Brand("OM", "欧姆龙"),
    "SMC": Brand("SMC", "SMC"),
    "Festo": Brand("FE", "费斯托"),
    "HIWIN": Brand("HW", "上银"),
    "Yaskawa": Brand("YS", "安川"),
    "Inovance": Brand("IN", "汇川"),
    "Igus": Brand("IG", "易格斯"),
    "Donaldson": Brand("DN", "唐纳森"),
}


class Part(NamedTuple):
    """What a family maker returns: the item apart from its brand-independent fields."""

    code: str
    name: str
    name_zh: str
    aliases: list[str]
    specs: dict
    price: int
    category: str | None = None  # when not the family's
    uom: str | None = None


Maker = Callable[[random.Random, str, Brand], Part]


def nozzle(rng: random.Random, brand: str, b: Brand) -> Part:
    layer, layer_en, layer_zh = rng.choice(
        (("S", "single-layer", "单层"), ("D", "double-layer", "双层"))
    )
    dia = rng.choice((0.8, 1.0, 1.2, 1.4, 1.5, 1.8, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0))
    outer, height, thread = rng.choice(((28, 15, "M11"), (32, 15, "M14"), (28, 12, "M11"),
                                        (31, 14, "M12"), (35, 19, "M16")))  # fmt: skip
    chrome, chrome_zh = rng.choice((("", ""), (" chrome-plated", "镀铬")))
    mount = f"D{outer} H{height} {thread}"
    return Part(
        code=f"NZ-{layer}{dia:.1f}",
        name=f"{brand}{chrome} {layer_en} nozzle {dia:.1f} mm {mount}",
        name_zh=f"{b.lead}{chrome_zh}{layer_zh}喷嘴{dia:.1f} {mount}",
        aliases=[f"{b.lead}{layer_zh}{dia:.1f}", f"{brand} nozzle {layer}{dia:.1f}"],
        specs={"diameter_mm": dia, "outer_mm": outer, "height_mm": height, "thread": thread},
        price=rng.randrange(8, 46),
    )


def protective_window(rng: random.Random, brand: str, b: Brand) -> Part:
    dia, thick = rng.choice(((27.9, 4.1), (30, 5), (34, 5), (37, 7), (38.1, 5), (50, 5),
                             (22.35, 4), (25.4, 2), (55, 8)))  # fmt: skip
    size = f"{dia:g}×{thick:g}"
    coating, coating_zh = rng.choice((("AR-coated", "镀膜"), ("fused silica", "石英")))
    return Part(
        code=f"PW-D{dia:g}-T{thick:g}",
        name=f"{brand} protective window {size} {coating}",
        name_zh=f"{b.lead}保护镜{size} {coating_zh}",
        aliases=[f"{b.lead}保护片{size}", f"{b.lead}防护镜{dia:g}"],
        specs={"diameter_mm": dia, "thickness_mm": thick, "coating": coating},
        price=rng.randrange(20, 121),
    )


def lens(rng: random.Random, brand: str, b: Brand) -> Part:
    code, kind, kind_zh = rng.choice(
        (("FL", "focus lens", "聚焦镜"), ("CL", "collimating lens", "准直镜"))
    )
    dia = rng.choice((25.4, 28, 30, 37, 38.1))
    focal = rng.choice((75, 100, 125, 150, 175, 200, 250) if code == "FL" else (75, 100, 125))
    return Part(
        code=f"{code}-D{dia:g}-F{focal}",
        name=f"{brand} {kind} D{dia:g} F{focal}",
        name_zh=f"{b.lead}{kind_zh}D{dia:g} F{focal}",
        aliases=[f"{b.lead}{kind_zh}片F{focal}"],
        specs={"diameter_mm": dia, "focal_length_mm": focal},
        price=rng.randrange(150, 1201),
    )


def ceramic_ring(rng: random.Random, brand: str, b: Brand) -> Part:
    dia, thread = rng.choice(((24.5, "M8"), (28, "M11"), (31, "M11"), (32, "M14"), (35, "M14")))
    return Part(
        code=f"CR-{dia:g}",
        name=f"{brand} ceramic ring {dia:g} mm {thread}",
        name_zh=f"{b.lead}陶瓷环{dia:g} {thread}",
        aliases=[f"{b.lead}陶瓷体{dia:g}"],
        specs={"diameter_mm": dia, "thread": thread},
        price=rng.randrange(60, 261),
    )


HEAD_MODELS = {
    "Raytools": ("BT240S", "BM110", "BM111", "BM114S", "BS06K"),
    "Precitec": ("ProCutter2", "LightCutter", "HPSSL"),
    "WSX": ("NC30", "NC60", "KC13", "SF20"),
    "Au3tech": ("P1", "P3", "E2"),
    "BLT": ("BLT420", "BLT641", "BLT660"),
}


def cutting_head(rng: random.Random, brand: str, b: Brand) -> Part:
    model = rng.choice(HEAD_MODELS[brand])
    power = rng.choice((3, 6, 12, 20, 30))
    focus, focus_zh = rng.choice((("manual-focus", "手动调焦"), ("auto-focus", "自动调焦")))
    return Part(
        code=f"CH-{model.upper()}-{power}K",
        name=f"{brand} {model} {focus} cutting head {power} kW",
        name_zh=f"{b.lead}{model}{focus_zh}切割头{power}kW",
        aliases=[f"{b.lead}{model}切割头", f"{model} {power}kW"],
        specs={"max_power_w": power * 1000, "focus": focus},
        price=rng.randrange(12, 61) * 1000 + power * 600,
    )


SOURCE_MODELS = {"Raycus": "RFL-C", "Max": "MFSC-", "IPG": "YLS-", "JPT": "JPT-CW"}


def laser_source(rng: random.Random, brand: str, b: Brand) -> Part:
    power = rng.choice((1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000, 15000, 20000, 30000))
    model = f"{SOURCE_MODELS[brand]}{power}"
    build, build_zh = rng.choice((("single-module", "单模块"), ("multi-module", "多模块")))
    per_watt = 22 if brand == "IPG" else 13
    return Part(
        code=f"LS-{power}",
        name=f"{brand} {model} {power}W {build} fiber laser source",
        name_zh=f"{b.lead}{model}光纤激光器{power}W {build_zh}",
        aliases=[f"{b.lead}{power // 1000 if power % 1000 == 0 else power / 1000}千瓦激光器"],
        specs={"power_w": power, "wavelength_nm": 1080, "build": build},
        price=int(power * per_watt * rng.uniform(0.9, 1.15)),
    )


CHILLER_MODELS = {"Hanli": "HL-", "S&A": "CWFL-", "Tongfei": "TFLW-"}


def chiller(rng: random.Random, brand: str, b: Brand) -> Part:
    power = rng.choice((1000, 1500, 2000, 3000, 6000, 12000, 20000, 30000))
    model = f"{CHILLER_MODELS[brand]}{power}"
    return Part(
        code=f"CHL-{power}",
        name=f"{brand} {model} dual-circuit chiller for {power}W lasers",
        name_zh=f"{b.lead}{model}双温冷水机",
        aliases=[f"{b.lead}水冷机{power}W"],
        specs={"power_w": power},
        price=int(4000 + power * 1.6 * rng.uniform(0.9, 1.1)),
    )


# code, model series, name, name_zh, price range
SENSORS = [
    ("CAP", "HS", "capacitive height sensor", "电容传感器", (600, 2400)),
    ("AMP", "BCS", "height-control amplifier", "调高放大器", (1500, 4200)),
    ("LIM", "EE-SX", "limit switch", "限位开关", (40, 260)),
    ("PRS", "ISE", "gas pressure sensor", "气压传感器", (300, 1500)),
    ("FLW", "FS", "cooling water flow sensor", "水流量传感器", (200, 900)),
    ("TMP", "PT", "temperature sensor", "温度传感器", (80, 500)),
]


def sensor(rng: random.Random, brand: str, b: Brand) -> Part:
    code, series, kind, kind_zh, (low, high) = rng.choice(SENSORS)
    model = f"{series}{rng.randrange(100, 1000)}"
    return Part(
        code=f"SN-{code}-{model}",
        name=f"{brand} {model} {kind}",
        name_zh=f"{b.lead}{model}{kind_zh}",
        aliases=[f"{b.lead}{kind_zh}"] if rng.random() < 0.5 else [],
        specs={"model": model},
        price=rng.randrange(low, high),
    )


# code, name, name_zh, lengths (m; 0 = sold by the metre)
CABLES = [
    ("QBH", "armoured QBH fiber cable", "QBH光纤", (10, 15, 20, 25)),
    ("SNS", "height sensor cable", "传感器线", (3, 5, 8)),
    ("SRV", "servo motor power cable", "伺服电机动力线", (0,)),
    ("ENC", "servo encoder cable", "编码器线", (0,)),
    ("GAS", "high-pressure gas hose", "高压气管", (0,)),
]


def cable(rng: random.Random, brand: str, b: Brand) -> Part:
    code, kind, kind_zh, lengths = rng.choice(CABLES)
    length = rng.choice(lengths)
    size = f"{length}M" if length else "PM"
    label, label_zh = (f" {length} m", f"{length}米") if length else (" (per metre)", "(按米)")
    price = rng.randrange(2000, 9000) if code == "QBH" else rng.randrange(15, 90) * max(length, 1)
    return Part(
        code=f"CB-{code}-{size}",
        name=f"{brand} {kind}{label}",
        name_zh=f"{b.lead}{kind_zh}{label_zh}",
        aliases=[],
        specs={"length_m": length} if length else {},
        price=price,
        uom=None if length else Item.Uom.M,
    )


VALVES = [
    ("PV", "proportional valve", "比例阀", (1800, 6500)),
    ("SV", "solenoid valve", "电磁阀", (120, 900)),
    ("RG", "pressure regulator", "减压阀", (150, 1200)),
    ("CV", "check valve", "单向阀", (60, 400)),
]


def gas_valve(rng: random.Random, brand: str, b: Brand) -> Part:
    code, kind, kind_zh, (low, high) = rng.choice(VALVES)
    gas, gas_zh = rng.choice((("N2", "氮气"), ("O2", "氧气"), ("air", "空气")))
    port = rng.choice(("G1/4", "G3/8", "G1/2"))
    return Part(
        code=f"GV-{code}-{gas.upper()}-{port[1:].replace('/', '')}",
        name=f"{brand} {gas} {kind} {port}",
        name_zh=f"{b.lead}{gas_zh}{kind_zh}{port}",
        aliases=[f"{gas_zh}{kind_zh}"] if rng.random() < 0.3 else [],
        specs={"gas": gas, "port": port},
        price=rng.randrange(low, high),
    )


FILTERS = [
    ("AIR", "compressed-air filter element", "空气过滤器滤芯", (40, 300)),
    ("H2O", "chiller water filter", "冷水机滤芯", (30, 180)),
    ("DI", "deionising resin cartridge", "去离子树脂滤芯", (120, 600)),
    ("DST", "dust collector filter cartridge", "除尘滤筒", (200, 900)),
]


def gas_filter(rng: random.Random, brand: str, b: Brand) -> Part:
    code, kind, kind_zh, (low, high) = rng.choice(FILTERS)
    micron = rng.choice((1, 5, 10, 25))
    return Part(
        code=f"FT-{code}-{micron}U",
        name=f"{brand} {kind} {micron} µm",
        name_zh=f"{b.lead}{kind_zh}{micron}微米",
        aliases=[f"{b.lead}滤芯{micron}μ"] if rng.random() < 0.3 else [],
        specs={"micron": micron},
        price=rng.randrange(low, high),
    )


MOTION = [
    ("GT", "aluminium gantry beam", "铝合金横梁", (6000, 40000), "set"),
    ("LG", "linear guide rail", "直线导轨", (400, 3000), "pcs"),
    ("RK", "helical rack", "斜齿条", (300, 1500), "pcs"),
    ("SM", "servo motor", "伺服电机", (1800, 7000), "pcs"),
    ("RD", "planetary reducer", "行星减速机", (1500, 5000), "pcs"),
]


def gantry(rng: random.Random, brand: str, b: Brand) -> Part:
    code, kind, kind_zh, (low, high), uom = rng.choice(MOTION)
    size = rng.choice(("3015", "4020", "6020", "6025", "12025"))
    return Part(
        code=f"{code}-{size}",
        name=f"{brand} {kind} for {size} beds",
        name_zh=f"{b.lead}{size}{kind_zh}",
        aliases=[f"{size}{kind_zh}"] if rng.random() < 0.2 else [],
        specs={"bed": size},
        price=rng.randrange(low, high),
        uom=uom,
    )


MACHINES = [
    ("LC", "fiber laser cutting machine", "光纤激光切割机", Item.Category.CUTTING_MACHINE),
    ("LT", "laser tube cutting machine", "激光切管机", Item.Category.CUTTING_MACHINE),
    ("LW", "handheld laser welder", "手持激光焊接机", Item.Category.WELDING_MACHINE),
    ("LM", "fiber laser marking machine", "光纤激光打标机", Item.Category.MARKING_MACHINE),
]


def machine(rng: random.Random, brand: str, b: Brand) -> Part:
    code, kind, kind_zh, category = rng.choice(MACHINES)
    if code == "LM":
        power, size = rng.choice((20, 30, 50, 100)), rng.choice(("110", "200", "300"))
        price = 12000 + power * 200
    elif code == "LW":
        power, size = rng.choice((1000, 1500, 2000, 3000)), "HH"
        price = 20 * power + 8000
    else:
        power, size = (
            rng.choice((1500, 3000, 6000, 12000, 20000, 30000)),
            rng.choice(
                ("3015", "4020", "6025", "12025") if code == "LC" else ("6016", "6023", "9035")
            ),
        )
        price = 150000 + power * 18
    watts = f"{power / 1000:g}kW" if power >= 1000 else f"{power}W"
    table, table_zh = rng.choice(((" exchange-table", "交换台"), (" enclosed", "全包围"), ("", "")))
    return Part(
        code=f"{code}-{size}-{watts.upper()}",
        name=f"{brand} {watts}{table} {kind} {size}",
        name_zh=f"{b.lead}{watts}{table_zh}{kind_zh}{size}",
        aliases=[f"{b.lead}{watts}{kind_zh[-3:]}"],
        specs={"power_w": power, "size": size},
        price=int(price * rng.uniform(0.95, 1.1)),
        category=category,
    )


@dataclass(frozen=True)
class Family:
    make: Maker
    brands: tuple[str, ...]
    item_type: str
    category: str
    share: int  # weight in the catalogue
    demand: float  # weight in sales order lines
    on_hand: int  # typical most in one warehouse
    uom: str = Item.Uom.PCS
    serial: bool = False
    warranty: int = 0
    bulky: bool = False  # not kept in service vans


TYPE, CAT = Item.ItemType, Item.Category
FAMILIES = {
    "nozzle": Family(nozzle, ("Raytools", "Precitec", "WSX", "Au3tech", "BLT"),
                     TYPE.CONSUMABLE, CAT.NOZZLE, 25, 10, 400),
    "window": Family(protective_window, ("Raytools", "Precitec", "WSX", "II-VI", "BLT"),
                     TYPE.CONSUMABLE, CAT.PROTECTIVE_WINDOW, 14, 9, 300),
    "lens": Family(lens, ("II-VI", "Raytools", "Precitec", "WSX"),
                   TYPE.SPARE_PART, CAT.LENS, 11, 3, 40),
    "ceramic": Family(ceramic_ring, ("Raytools", "Precitec", "WSX", "BLT"),
                      TYPE.CONSUMABLE, CAT.OTHER, 8, 6, 100),
    "head": Family(cutting_head, tuple(HEAD_MODELS), TYPE.SPARE_PART, CAT.CUTTING_HEAD, 5, 0.6, 6,
                   serial=True, warranty=12, bulky=True),
    "source": Family(laser_source, tuple(SOURCE_MODELS), TYPE.SPARE_PART, CAT.LASER_SOURCE, 5, 0.4,
                     5, serial=True, warranty=24, bulky=True),
    "chiller": Family(chiller, tuple(CHILLER_MODELS), TYPE.SPARE_PART, CAT.CHILLER, 3, 0.4, 4,
                      uom=Item.Uom.SET, warranty=12, bulky=True),
    "sensor": Family(sensor, ("Friendess", "Raytools", "Omron", "SMC"),
                     TYPE.SPARE_PART, CAT.OTHER, 6, 2, 20),
    "cable": Family(cable, ("Raycus", "Max", "Friendess", "Yaskawa", "Igus"),
                    TYPE.SPARE_PART, CAT.OTHER, 6, 1.5, 50),
    "valve": Family(gas_valve, ("SMC", "Festo"), TYPE.SPARE_PART, CAT.OTHER, 5, 1.5, 15),
    "filter": Family(gas_filter, ("Donaldson", "SMC", "Hanli", "S&A"),
                     TYPE.CONSUMABLE, CAT.OTHER, 6, 4, 80),
    "motion": Family(gantry, ("BLT", "HIWIN", "Yaskawa", "Inovance"),
                     TYPE.SPARE_PART, CAT.OTHER, 3, 0.5, 4, bulky=True),
    "machine": Family(machine, ("BLT",), TYPE.MACHINE, CAT.OTHER, 3, 0.3, 2,
                      uom=Item.Uom.SET, serial=True, warranty=36, bulky=True),
}  # fmt: skip
FAMILY_NAMES = list(FAMILIES)
FAMILY_WEIGHTS = list(accumulate(family.share for family in FAMILIES.values()))


class ItemSpec(NamedTuple):
    sku: str
    name: str
    name_zh: str
    aliases: list[str]
    family: str
    brand: str
    category: str
    uom: str
    specs: dict
    list_price: Decimal
    standard_cost: Decimal


def item_spec(rng: random.Random, k: int) -> ItemSpec:
    """Item k: a part of a weighted family and brand, its SKU ending in its number."""
    family_name = rng.choices(FAMILY_NAMES, cum_weights=FAMILY_WEIGHTS)[0]
    family = FAMILIES[family_name]
    brand = rng.choice(family.brands)
    part = family.make(rng, brand, BRANDS[brand])
    aliases = part.aliases[: rng.choice((0, 0, 1, 2))]
    price = Decimal(part.price)
    cost = (price * Decimal(rng.randrange(45, 76)) / 100).quantize(CENT)
    # The vendor's part number tells apart items the same words describe.
    part_number = f"{rng.randrange(100, 1000)}-{rng.randrange(10000):04d}"
    return ItemSpec(
        sku=f"{part.code}-{BRANDS[brand].code}{k:05d}",
        name=f"{part.name} ({part_number})",
        name_zh=f"{part.name_zh} ({part_number})",
        aliases=aliases,
        family=family_name,
        brand=brand,
        category=part.category or family.category,
        uom=part.uom or family.uom,
        specs={**part.specs, "part_number": part_number},
        list_price=price,
        standard_cost=cost,
    )


def item_specs(seed: int, count: int) -> list[ItemSpec]:
    """The first `count` items of the catalogue of this seed."""
    return [item_spec(rng, k) for rng, ks in chunks(seed, "items", count) for k in ks]


def new_item(spec: ItemSpec) -> Item:
    family = FAMILIES[spec.family]
    return Item(
        sku=spec.sku,
        name=spec.name,
        name_zh=spec.name_zh,
        aliases=spec.aliases,
        search_text=Item.search_text_of(spec.sku, spec.name, spec.name_zh, spec.aliases),
        item_type=family.item_type,
        category=spec.category,
        brand=spec.brand,
        model=spec.specs["part_number"],
        specs=spec.specs,
        stock_uom=spec.uom,
        has_serial_no=family.serial,
        warranty_months=family.warranty,
        list_price=spec.list_price,
        standard_cost=spec.standard_cost,
    )


# --- Writing: bulk_create what is missing ---


class Tally:
    """Bulk-creates rows and remembers, per model, how many and the last one."""

    def __init__(self) -> None:
        self.counts: dict[type[models.Model], int] = {}
        self.last: dict[type[models.Model], models.Model] = {}

    def create(self, model: type[models.Model], rows: list) -> list:
        made = model.objects.bulk_create(rows, batch_size=BATCH)
        if made:
            self.counts[model] = self.counts.get(model, 0) + len(made)
            self.last[model] = made[-1]
        return made


def grow(
    sizes: Sizes,
    *,
    seed: int = 1,
    today: date,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, int]:
    """Add what is missing of the company of this seed and sizes; rows created per model."""
    tally = Tally()
    with transaction.atomic():
        owners = demo_salespeople()
        step = stepper(tally, log)
        warehouses = step("warehouses", grow_warehouses, tally, sizes.warehouses)
        customers = step("customers", grow_customers, tally, seed, sizes.customers, owners)
        step("suppliers", grow_suppliers, tally, seed, sizes.suppliers)
        specs = item_specs(seed, sizes.items)
        pks = step("items", grow_items, tally, specs)
        stock = Stock(specs, pks, warehouses, sizes.stock_rows, opening_moment(today))
        step("stock", grow_stock, tally, seed, stock)
        step("sales orders", grow_orders, tally, seed, sizes.orders, stock, customers, today)
        if tally.counts:
            # bulk_create goes around the services that count changes: cached reports are stale.
            for area in AREAS:
                bump(area)
    announce(tally)
    return {model._meta.label: count for model, count in tally.counts.items()}


def stepper(tally: Tally, log: Callable[[str], None]) -> Callable:
    """Run one step and log the rows it created and the time it took."""

    def step(label: str, function: Callable, *args):
        before, started = sum(tally.counts.values()), time.monotonic()
        result = function(*args)
        rows = sum(tally.counts.values()) - before
        log(f"{label}: {rows} new rows in {time.monotonic() - started:.1f} s")
        return result

    return step


def announce(tally: Tally) -> None:
    """Send post_save once per model that gained rows, for the row created last.

    bulk_create sends no signals, yet receivers may cache whole tables (the assistant keeps
    the warehouses, customers and suppliers in each process). Once per model is what such a
    receiver needs, and apps.demo stays free of imports from its listeners. Per-record
    receivers see only that row: their derived data is rebuilt by the command.
    """
    for model, instance in tally.last.items():
        post_save.send(
            sender=model,
            instance=instance,
            created=True,
            update_fields=None,
            raw=False,
            using=instance._state.db,
        )


def demo_salespeople() -> list:
    users = get_user_model().objects.in_bulk(["sales1", "sales2"], field_name="username")
    if len(users) < 2:
        raise LookupError("The demo users are missing: run manage.py seed_demo first.")
    return [users["sales1"], users["sales2"]]


def opening_moment(today: date) -> datetime:
    start = today - timedelta(days=365)
    return datetime(start.year, start.month, start.day, 8, tzinfo=SHANGHAI)


def existing(model: type[models.Model], field: str, keys: list) -> dict:
    return dict(model.objects.filter(**{f"{field}__in": keys}).values_list(field, "pk"))


def grow_warehouses(tally: Tally, count: int) -> list[Warehouse]:
    specs = [warehouse_spec(index) for index in range(count)]
    have = existing(Warehouse, "code", [spec.code for spec in specs])
    tally.create(
        Warehouse,
        [
            Warehouse(
                code=spec.code,
                name=spec.name,
                name_zh=spec.name_zh,
                warehouse_type=spec.kind,
                address=spec.address,
            )
            for spec in specs
            if spec.code not in have
        ],
    )
    by_code = Warehouse.objects.in_bulk([spec.code for spec in specs], field_name="code")
    return [by_code[spec.code] for spec in specs]


def grow_customers(tally: Tally, seed: int, count: int, owners: list) -> list[Customer]:
    specs = party_specs(seed, "C", count)
    have = existing(Customer, "code", [spec.code for spec in specs])
    tally.create(
        Customer,
        [
            Customer(
                code=spec.code,
                name=spec.name,
                name_zh=spec.name_zh,
                territory=spec.territory,
                # sales1 owns two customers in three, as in the demo.
                owner_salesperson=owners[0] if index % 3 else owners[1],
                credit_limit=Decimal(spec.credit_limit),
                contact_name=spec.contact_name,
                contact_phone=spec.contact_phone,
            )
            for index, spec in enumerate(specs)
            if spec.code not in have
        ],
    )
    by_code = Customer.objects.in_bulk([spec.code for spec in specs], field_name="code")
    return [by_code[spec.code] for spec in specs]


def grow_suppliers(tally: Tally, seed: int, count: int) -> None:
    specs = party_specs(seed, "S", count)
    have = existing(Supplier, "code", [spec.code for spec in specs])
    tally.create(
        Supplier,
        [
            Supplier(
                code=spec.code,
                name=spec.name,
                name_zh=spec.name_zh,
                contact_name=spec.contact_name,
                contact_phone=spec.contact_phone,
            )
            for spec in specs
            if spec.code not in have
        ],
    )


def grow_items(tally: Tally, specs: list[ItemSpec]) -> list[int]:
    """Create the missing items; return every item's pk, in catalogue order."""
    pks = []
    for start in range(0, len(specs), CHUNK):
        chunk = specs[start : start + CHUNK]
        have = existing(Item, "sku", [spec.sku for spec in chunk])
        made = tally.create(Item, [new_item(spec) for spec in chunk if spec.sku not in have])
        have.update((item.sku, item.pk) for item in made)
        pks.extend(have[spec.sku] for spec in chunk)
    return pks


# --- Stock: levels, their opening moves, reorder rules ---

# How much more likely a warehouse of this type is to keep an item (small, bulky).
PLACE_WEIGHTS = {
    Warehouse.WarehouseType.MAIN: (4, 4),
    Warehouse.WarehouseType.SPARE_PARTS: (2, 1),
    Warehouse.WarehouseType.SERVICE_VAN: (1, 0.02),
    Warehouse.WarehouseType.CONSIGNMENT: (1, 1),
    Warehouse.WarehouseType.TRANSIT: (0.5, 0.5),
}
RULE_SHARE = 0.15  # stock rows of parts and consumables with a reorder rule
BELOW_SHARE = 0.35  # of those, rows below their reorder level
EMPTY_SHARE = 0.08
RESERVED_SHARE = 0.05


@dataclass(frozen=True)
class Stock:
    specs: list[ItemSpec]
    pks: list[int]
    warehouses: list[Warehouse]
    rows: int
    opening_at: datetime

    def rows_of(self, k: int) -> int:
        """Item k's share of the rows; the shares add up to exactly `rows`."""
        n = len(self.specs)
        return self.rows * (k + 1) // n - self.rows * k // n


def grow_stock(tally: Tally, seed: int, stock: Stock) -> None:
    small = [1 / PLACE_WEIGHTS[w.warehouse_type][0] for w in stock.warehouses]
    bulky = [1 / PLACE_WEIGHTS[w.warehouse_type][1] for w in stock.warehouses]
    for rng, ks in chunks(seed, "stock", len(stock.specs)):
        chunk_pks = [stock.pks[k] for k in ks]
        have = set(
            StockLevel.objects.filter(item_id__in=chunk_pks).values_list("item_id", "warehouse_id")
        )
        levels, moves, rules = [], [], []
        for k in ks:
            family = FAMILIES[stock.specs[k].family]
            exponents = bulky if family.bulky else small
            for place in places(rng, exponents, stock.rows_of(k)):
                row = stock_row(rng, stock, k, stock.warehouses[place])
                if (row[0].item_id, row[0].warehouse_id) not in have:
                    add_row(row, levels, moves, rules)
        tally.create(StockLevel, levels)
        tally.create(StockMove, moves)
        tally.create(ReorderRule, rules)


def places(rng: random.Random, exponents: list[float], count: int) -> list[int]:
    """`count` warehouse indexes drawn without replacement, weighted (Efraimidis–Spirakis)."""
    keys = [rng.random() ** exponent for exponent in exponents]
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=True)[:count]


def stock_row(
    rng: random.Random, stock: Stock, k: int, warehouse: Warehouse
) -> tuple[StockLevel, StockMove | None, ReorderRule | None]:
    spec, item_id = stock.specs[k], stock.pks[k]
    family = FAMILIES[spec.family]
    level = None
    if family.item_type != Item.ItemType.MACHINE and rng.random() < RULE_SHARE:
        level = max(1, family.on_hand // rng.choice((4, 5, 8)))
    actual = on_hand(rng, family.on_hand, level)
    reserved = rng.randint(1, actual) if actual and rng.random() < RESERVED_SHARE else 0
    stock_level = StockLevel(
        item_id=item_id,
        warehouse=warehouse,
        actual_qty=Decimal(actual),
        reserved_qty=Decimal(reserved),
    )
    move = opening_move(stock, k, warehouse, actual) if actual else None
    rule = reorder_rule(rng, item_id, warehouse, level) if level else None
    return stock_level, move, rule


def on_hand(rng: random.Random, most: int, reorder_level: int | None) -> int:
    if rng.random() < EMPTY_SHARE:
        return 0
    if reorder_level and rng.random() < BELOW_SHARE:
        return rng.randrange(0, reorder_level)
    return rng.randint(reorder_level or 1, max(most, reorder_level or 1))


def opening_move(stock: Stock, k: int, warehouse: Warehouse, actual: int) -> StockMove:
    return StockMove(
        posted_at=stock.opening_at,
        item_id=stock.pks[k],
        warehouse=warehouse,
        qty=Decimal(actual),
        qty_after=Decimal(actual),
        voucher_type=StockMove.VoucherType.ADJUSTMENT,
        voucher_id=OPENING_VOUCHER,
        unit_cost=stock.specs[k].standard_cost,
        note="Scale-test opening balance",
    )


def reorder_rule(rng: random.Random, item_id: int, warehouse: Warehouse, level: int) -> ReorderRule:
    stocked_for_transfer = warehouse.warehouse_type not in (
        Warehouse.WarehouseType.MAIN,
        Warehouse.WarehouseType.SPARE_PARTS,
    )
    return ReorderRule(
        item_id=item_id,
        warehouse=warehouse,
        reorder_level=Decimal(level),
        reorder_qty=Decimal(level * rng.choice((2, 3, 4, 5))),
        request_type=ReorderRule.RequestType.TRANSFER
        if stocked_for_transfer
        else ReorderRule.RequestType.PURCHASE,
    )


def add_row(row: tuple, levels: list, moves: list, rules: list) -> None:
    level, move, rule = row
    levels.append(level)
    if move:
        moves.append(move)
    if rule:
        rules.append(rule)


# --- Sales orders over the last twelve months ---

LINE_COUNTS, LINE_COUNT_WEIGHTS = (1, 2, 3, 4, 5), (40, 65, 80, 92, 100)  # cumulative
DISCOUNTS = (0, 0, 0, 0, 2, 3, 5, 8)
S = SalesOrder.Status
# Newest first: (up to days old, statuses, cumulative weights)
STATUS_BY_AGE = [
    (30, (S.DRAFT, S.PENDING_APPROVAL, S.CONFIRMED, S.TO_DELIVER_AND_BILL, S.TO_DELIVER,
          S.TO_BILL, S.COMPLETED, S.ON_HOLD), (10, 18, 38, 68, 78, 85, 97, 100)),
    (90, (S.CONFIRMED, S.TO_DELIVER_AND_BILL, S.TO_DELIVER, S.TO_BILL, S.COMPLETED, S.CLOSED,
          S.ON_HOLD, S.CANCELLED), (5, 20, 30, 45, 85, 90, 95, 100)),
    (366, (S.TO_BILL, S.COMPLETED, S.CLOSED, S.ON_HOLD, S.CANCELLED), (4, 79, 91, 94, 100)),
]  # fmt: skip


class OrderSpec(NamedTuple):
    number: str
    customer: int  # index into the scale customers
    order_date: date
    promised_date: date | None
    status: str
    per_delivered: int
    per_billed: int
    lines: list[tuple[int, int, int]]  # item index into the catalogue, qty, discount %


@dataclass(frozen=True)
class OrderDraw:
    """What one order is drawn from."""

    today: date
    item_weights: list[float]  # cumulative
    customer_weights: list[float]  # cumulative
    stock: Stock


def order_spec(rng: random.Random, k: int, draw: OrderDraw) -> OrderSpec:
    age = rng.randrange(365)
    order_date = draw.today - timedelta(days=age)
    status = order_status(rng, age)
    delivered, billed = completion(rng, status)
    customers = range(len(draw.customer_weights))
    customer = rng.choices(customers, cum_weights=draw.customer_weights)[0]
    promised = None if status == S.DRAFT else order_date + timedelta(days=rng.randrange(7, 61))
    return OrderSpec(
        number=f"SO-{order_date.year}-{FIRST_ORDER_SEQ + k}",
        customer=customer,
        order_date=order_date,
        promised_date=promised,
        status=status,
        per_delivered=delivered,
        per_billed=billed,
        lines=order_lines(rng, draw),
    )


def order_status(rng: random.Random, age: int) -> str:
    for days, statuses, weights in STATUS_BY_AGE:
        if age < days:
            return rng.choices(statuses, cum_weights=weights)[0]
    raise AssertionError("unreachable")


def completion(rng: random.Random, status: str) -> tuple[int, int]:
    """% delivered and % billed of an order in this status."""
    if status in (S.COMPLETED, S.CLOSED):
        return 100, 100
    if status == S.TO_BILL:
        return 100, rng.choice((0, 30, 50))
    if status == S.TO_DELIVER:
        return 0, 100
    return 0, 0


def order_lines(rng: random.Random, draw: OrderDraw) -> list[tuple[int, int, int]]:
    count = rng.choices(LINE_COUNTS, cum_weights=LINE_COUNT_WEIGHTS)[0]
    picked = rng.choices(range(len(draw.item_weights)), cum_weights=draw.item_weights, k=count)
    lines = []
    for index in dict.fromkeys(picked):
        qty = line_qty(rng, draw.stock.specs[index])
        lines.append((index, qty, rng.choice(DISCOUNTS)))
    return lines


def line_qty(rng: random.Random, spec: ItemSpec) -> int:
    family = FAMILIES[spec.family]
    if spec.uom == Item.Uom.M or family.item_type == Item.ItemType.CONSUMABLE:
        return rng.choice((5, 10, 20, 30, 50, 100))
    if family.item_type == Item.ItemType.MACHINE:
        return 1
    return rng.randint(1, 2 if family.bulky else 4)


def existing_order_seqs() -> set[int]:
    numbers = SalesOrder.objects.filter(number__regex=SCALE_ORDER_NUMBER)
    return {int(number.rsplit("-", 1)[1]) for number in numbers.values_list("number", flat=True)}


def grow_orders(
    tally: Tally, seed: int, count: int, stock: Stock, customers: list[Customer], today: date
) -> None:
    if not stock.specs or not customers:
        return
    draw = OrderDraw(
        today=today,
        item_weights=list(accumulate(FAMILIES[spec.family].demand for spec in stock.specs)),
        # A few customers buy most: weight 1, 1/2^0.7, 1/3^0.7, …
        customer_weights=list(accumulate(1 / (rank + 1) ** 0.7 for rank in range(len(customers)))),
        stock=stock,
    )
    have = existing_order_seqs()
    for rng, ks in chunks(seed, "orders", count):
        specs = [order_spec(rng, k, draw) for k in ks]
        new = [spec for k, spec in zip(ks, specs, strict=True) if FIRST_ORDER_SEQ + k not in have]
        create_orders(tally, new, stock, customers)


def create_orders(
    tally: Tally, specs: list[OrderSpec], stock: Stock, customers: list[Customer]
) -> None:
    orders, lines = [], []
    for spec in specs:
        customer = customers[spec.customer]
        order = SalesOrder(
            number=spec.number,
            doc_type=SalesOrder.DocType.ORDER,
            customer=customer,
            salesperson_id=customer.owner_salesperson_id,
            order_date=spec.order_date,
            promised_date=spec.promised_date,
            status=spec.status,
            per_delivered=Decimal(spec.per_delivered),
            per_billed=Decimal(spec.per_billed),
        )
        order_lines = [sales_line(order, spec, line, stock) for line in spec.lines]
        order.grand_total = sum((line.amount for line in order_lines), Decimal("0"))
        orders.append(order)
        lines.extend(order_lines)
    tally.create(SalesOrder, orders)
    tally.create(SalesOrderLine, lines)


def sales_line(
    order: SalesOrder, spec: OrderSpec, line: tuple[int, int, int], stock: Stock
) -> SalesOrderLine:
    index, qty, discount = line
    item = stock.specs[index]
    amount = (qty * item.list_price * (100 - discount) / 100).quantize(CENT)
    return SalesOrderLine(
        order=order,
        item_id=stock.pks[index],
        qty=Decimal(qty),
        uom=item.uom,
        rate=item.list_price,
        discount_pct=Decimal(discount),
        amount=amount,
        delivered_qty=Decimal(qty) if spec.per_delivered == 100 else Decimal("0"),
        billed_qty=Decimal(qty) if spec.per_billed == 100 else Decimal("0"),
    )
