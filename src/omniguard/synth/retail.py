"""A synthetic retailer customer table with ground truth, for the demo, tests and benchmarks.

Faker ``zh_CN`` supplies names, resident IDs (all valid: province, date, MOD 11-2) and part of the
cards and addresses; our own generators fill what Faker lacks or gets wrong for China: mobiles
with every current prefix (Faker stops at 189), new-energy licence plates, unified social credit
codes with correct check characters, WeChat openids, and addresses with 号. Eleven **decoy**
columns look like personal data and are not (an ID-shaped pickup code, a phone-shaped member
number, a card-shaped transaction id, brand names that start with a surname ...): a classifier
that grades one of them as personal information is wrong.

Tables above :data:`POOL_ROWS` rows are drawn with replacement from a pool of that many
generated rows: Faker costs about 100 µs a row, and classification only samples anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omniguard.classify.recognizers.validators import (
    luhn_check_digit,
    org_code_check_char,
    uscc_check_char,
)

POOL_ROWS = 20_000
NAMINGS = ("en", "zh", "pinyin", "opaque")


@dataclass(frozen=True)
class ColumnTruth:
    key: str
    entity: str | None  # what a correct classifier reports; None for a decoy (not personal)
    en: str
    zh: str
    pinyin: str
    decoy: bool = False


COLUMNS: tuple[ColumnTruth, ...] = (
    ColumnTruth("name", "PERSON", "customer_name", "客户姓名", "khxm"),
    ColumnTruth("mobile", "CN_MOBILE", "mobile", "手机号", "sjh"),
    ColumnTruth("id_card", "CN_RESIDENT_ID", "id_card_no", "身份证号", "sfzh"),
    ColumnTruth("email", "EMAIL_ADDRESS", "email", "电子邮箱", "dzyx"),
    ColumnTruth("bank_card", "BANK_CARD", "bank_card_no", "银行卡号", "yhkh"),
    ColumnTruth("address", "CN_ADDRESS", "shipping_address", "收货地址", "shdz"),
    ColumnTruth("ip", "IP_ADDRESS", "login_ip", "登录IP", "dlip"),
    ColumnTruth("plate", "CN_LICENSE_PLATE", "plate_no", "车牌号", "cph"),
    ColumnTruth("gps", "GPS_COORDINATE", "last_location", "定位坐标", "dwzb"),
    ColumnTruth("openid", "WECHAT_OPENID", "wx_openid", "微信openid", "wxopenid"),
    ColumnTruth("wechat_id", "WECHAT_ID", "wechat_id", "微信号", "wxh"),
    ColumnTruth("landline", "CN_LANDLINE", "home_phone", "家庭电话", "jtdh"),
    ColumnTruth("uscc", "CN_USCC", "invoice_tax_id", "发票税号", "fpsh"),
    ColumnTruth("remark", "FREE_TEXT", "remark", "备注", "bz"),
    ColumnTruth("order_no", None, "order_no", "订单号", "ddh", decoy=True),
    ColumnTruth("pickup_code", None, "pickup_code", "取货码", "qhm", decoy=True),
    ColumnTruth("member_no", None, "member_no", "会员编号", "hybh", decoy=True),
    ColumnTruth("txn_id", None, "txn_id", "交易流水号", "jylsh", decoy=True),
    ColumnTruth("sku_barcode", None, "sku_barcode", "商品条码", "sptm", decoy=True),
    ColumnTruth("product_name", None, "product_name", "商品名称", "spmc", decoy=True),
    ColumnTruth("amount", None, "amount", "金额", "je", decoy=True),
    ColumnTruth("created_at", None, "created_at", "下单时间", "xdsj", decoy=True),
    ColumnTruth("coupon_code", None, "coupon_code", "优惠券码", "yhqm", decoy=True),
    ColumnTruth("status", None, "status", "订单状态", "ddzt", decoy=True),
    ColumnTruth("score_pair", None, "score_pair", "评分", "pf", decoy=True),
)

MOBILE_PREFIXES = tuple(
    [*range(130, 140), 145, 147, 150, 151, 152, 153, 155, 156, 157, 158, 159, 162, 165, 166, 167,
     170, 171, 172, 173, 175, 176, 177, 178, *range(180, 190), 190, 191, 192, 193, *range(195, 200)]
)
_AREA_CODES = ("010", "021", "020", "022", "023", "024", "025", "027", "028", "029", "0755", "0571", "0512",
               "0532", "0731", "0871", "0591", "0311")
_PROVINCES = (("广东省", "深圳市", "南山区"), ("广东省", "广州市", "天河区"), ("浙江省", "杭州市", "西湖区"),
              ("江苏省", "南京市", "鼓楼区"), ("四川省", "成都市", "武侯区"), ("湖北省", "武汉市", "洪山区"),
              ("北京市", "北京市", "朝阳区"), ("上海市", "上海市", "浦东新区"), ("山东省", "青岛市", "市南区"),
              ("福建省", "厦门市", "思明区"), ("陕西省", "西安市", "雁塔区"), ("湖南省", "长沙市", "岳麓区"))
_ROADS = ("中山路", "人民路", "解放大道", "建设路", "科技园南路", "文三路", "长江路", "和平街", "滨河大道", "新华路",
          "学府路", "东风路", "青年路", "幸福巷", "南京西路")
_PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "gmail.com", "outlook.com", "139.com")
_BRANDS = ("王老吉", "李宁", "周黑鸭", "张裕", "马应龙", "白象", "方太", "海天", "康师傅", "娃哈哈", "金龙鱼",
           "三只松鼠", "良品铺子", "钱大妈", "陈克明", "孔府家", "杨国福", "黄飞红", "徐福记", "蒙牛")
_GOODS = ("", "", "凉茶310ml", "运动鞋", "鸭脖", "干红", "挂面", "酱油500ml", "方便面", "纯牛奶", "礼盒")
_REMARKS = ("周末送货", "不要辣", "放门卫室", "会员生日礼品已领取", "发票随货", "请尽快发货", "包装要结实",
            "工作日白天送", "到店自提", "已电话确认")
_STATUS = ("已支付", "已发货", "已完成", "已取消", "退款中")
_OPENID_CHARS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
_ALNUM_UPPER = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"))


def column_names(naming: str) -> dict[str, str]:
    """key -> column name in one naming scheme (en, zh, pinyin initials, or opaque c01..c25)."""
    if naming not in NAMINGS:
        raise ValueError(f"naming must be one of {', '.join(NAMINGS)}")
    if naming == "opaque":
        return {c.key: f"c{i + 1:02d}" for i, c in enumerate(COLUMNS)}
    return {c.key: getattr(c, naming) for c in COLUMNS}


def ground_truth(naming: str = "en") -> dict[str, ColumnTruth]:
    """Column name (in that naming) -> its truth record."""
    names = column_names(naming)
    return {names[c.key]: c for c in COLUMNS}


def _digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """n strings of ``width`` random decimal digits."""
    d = rng.integers(0, 10, size=(n, width), dtype=np.uint8) + ord("0")
    return d.view(f"S{width}").ravel().astype(str)


def _choice_str(rng: np.random.Generator, alphabet: np.ndarray, n: int, width: int) -> np.ndarray:
    idx = rng.integers(0, len(alphabet), size=(n, width))
    return np.array(["".join(row) for row in alphabet[idx]])


def _mobiles(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = rng.choice(np.array(MOBILE_PREFIXES).astype(str), n)
    return [p + d for p, d in zip(prefixes, _digits(rng, n, 8), strict=True)]


def _uscc(rng: np.random.Generator) -> str:
    kind = str(rng.choice(["11", "12", "31", "51", "52", "91", "92", "93"]))
    region = str(rng.choice(["110105", "310115", "440305", "330106", "510107", "420111"]))
    org8 = "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPQRTUWXY"[:10 + int(rng.integers(0, 3))]), 8))
    body = kind + region + org8 + org_code_check_char(org8)
    return body + uscc_check_char(body)


def _bank_card(rng: np.random.Generator, fake) -> str:
    if rng.random() < 0.6:
        partial = "62" + "".join(rng.choice(list("0123456789"), int(rng.choice([13, 16]))))
        return partial + luhn_check_digit(partial)
    return fake.credit_card_number()


def _address(rng: np.random.Generator, fake) -> str:
    if rng.random() < 0.25:
        return fake.address()
    prov, city, district = _PROVINCES[int(rng.integers(len(_PROVINCES)))]
    head = prov + (city if city != prov else "") + district
    road = _ROADS[int(rng.integers(len(_ROADS)))]
    tail = f"{road}{rng.integers(1, 999)}号"
    if rng.random() < 0.7:
        tail += f"{rng.integers(1, 30)}栋{rng.integers(1, 6)}单元{rng.integers(1, 33)}{rng.integers(1, 9):02d}室"
    return head + tail


def _plate(rng: np.random.Generator, fake) -> str:
    r = rng.random()
    prov = _PLATE_PROVINCES[int(rng.integers(len(_PLATE_PROVINCES)))]
    letter = _PLATE_LETTERS[int(rng.integers(len(_PLATE_LETTERS)))]
    if r < 0.2:  # small new-energy: D/F (+ A-K) then a letter or digit and 4 digits
        return prov + letter + str(rng.choice(list("DFABCEGHJK"))) + str(rng.choice(list(_PLATE_CHARS))) + "".join(
            rng.choice(list("0123456789"), 4))
    if r < 0.3:  # large new-energy: 5 digits then D/F
        return prov + letter + "".join(rng.choice(list("0123456789"), 5)) + str(rng.choice(["D", "F"]))
    if r < 0.5:
        return fake.license_plate()
    return prov + letter + "".join(rng.choice(list(_PLATE_CHARS[-14:]), 5))


def _wechat_id(rng: np.random.Generator, fake) -> str:
    if rng.random() < 0.4:
        return "wxid_" + "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), 14))
    stem = fake.romanized_name().replace(" ", "").lower()[: int(rng.integers(5, 12))]
    return stem + str(rng.choice(["", "_", "-"])) + str(rng.integers(1, 9999))


def _remark(rng: np.random.Generator, fake, mobile: str, address: str, id_card: str, uscc: str) -> str:
    r = rng.random()
    if r < 0.06:
        return f"请联系{fake.name()}，电话{mobile}"
    if r < 0.10:
        return f"改送到{address}"
    if r < 0.13:
        return f"开票抬头公司税号{uscc}"
    if r < 0.17:
        return f"客户身份证{id_card}已核验"
    return _REMARKS[int(rng.integers(len(_REMARKS)))]


def _pool(rows: int, seed: int) -> pd.DataFrame:
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    n = rows
    names = [fake.name() for _ in range(n)]
    masked = rng.random(n) < 0.05
    names = [nm[0] + "*" * (len(nm) - 1) if m else nm for nm, m in zip(names, masked, strict=True)]
    mobiles = _mobiles(rng, n)
    ids = [fake.ssn() for _ in range(n)]
    usccs = [_uscc(rng) for _ in range(n)]
    addresses = [_address(rng, fake) for _ in range(n)]
    emails = [f"{fake.romanized_name().replace(' ', '.').lower()}{rng.integers(1, 999)}@"
              f"{_EMAIL_DOMAINS[int(rng.integers(len(_EMAIL_DOMAINS)))]}" for _ in range(n)]
    lat = rng.uniform(18.2, 53.5, n)
    lon = rng.uniform(73.6, 134.7, n)
    pickup_store = rng.integers(110000, 659999, n).astype(str)
    pickup_date = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    ean12 = np.char.add("69", _digits(rng, n, 10).astype("U10"))
    ean = [c + str((10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(c)) % 10) % 10) for c in ean12]
    created = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
    data = {
        "name": names,
        "mobile": mobiles,
        "id_card": ids,
        "email": emails,
        "bank_card": [_bank_card(rng, fake) for _ in range(n)],
        "address": addresses,
        "ip": [fake.ipv4() if rng.random() < 0.8 else fake.ipv6() for _ in range(n)],
        "plate": [_plate(rng, fake) for _ in range(n)],
        "gps": [f"{a:.6f},{b:.6f}" for a, b in zip(lat, lon, strict=True)],
        "openid": np.char.add("o", _choice_str(rng, _OPENID_CHARS, n, 27).astype("U27")),
        "wechat_id": [_wechat_id(rng, fake) for _ in range(n)],
        "landline": [f"{_AREA_CODES[int(a)]}-{int(b)}{d}" for a, b, d in zip(
            rng.integers(0, len(_AREA_CODES), n), rng.integers(2, 9, n), _digits(rng, n, 7), strict=True)],
        "uscc": usccs,
        "remark": [_remark(rng, fake, mobiles[i], addresses[i], ids[i], usccs[i]) for i in range(n)],
        "order_no": np.char.add("2024", _digits(rng, n, 14).astype("U14")),
        "pickup_code": [s + d.strftime("%Y%m%d") + x for s, d, x in zip(
            pickup_store, pickup_date, _digits(rng, n, 4), strict=True)],
        "member_no": np.char.add("1", _digits(rng, n, 10).astype("U10")),
        "txn_id": np.char.add("62", _digits(rng, n, 17).astype("U17")),
        "sku_barcode": ean,
        "product_name": [_BRANDS[int(b)] + _GOODS[int(g)] for b, g in zip(
            rng.integers(0, len(_BRANDS), n), rng.integers(0, len(_GOODS), n), strict=True)],
        "amount": [f"{v:.2f}" for v in np.round(rng.gamma(2.0, 80.0, n), 2)],
        "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
        "coupon_code": np.char.add(rng.choice(["WX", "VX", "QQ", "MT"], n), _choice_str(rng, _ALNUM_UPPER, n, 10)),
        "status": rng.choice(np.array(_STATUS), n),
        "score_pair": [f"{a:.2f},{b:.2f}" for a, b in rng.uniform(0, 1, (n, 2))],
    }
    return pd.DataFrame({k: pd.array(list(v), dtype="str") for k, v in data.items()})


def generate_customers(n: int, seed: int = 7, *, naming: str = "en", pool_rows: int = POOL_ROWS) -> pd.DataFrame:
    """A 25-column retail customer/order table of ``n`` rows (14 personal columns, 11 decoys).

    ``naming`` picks the column names: ``en`` (snake_case), ``zh`` (中文), ``pinyin`` (initials such
    as ``sjh``) or ``opaque`` (``c01``..``c25``). :func:`ground_truth` gives the expected entity of
    every column. Deterministic for a given (n, seed, pool_rows)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    pool = _pool(min(n, pool_rows) if n else 1, seed)
    if n > len(pool):
        idx = np.random.default_rng(seed + 1).integers(0, len(pool), n)
        pool = pool.iloc[idx].reset_index(drop=True)
    elif n < len(pool):
        pool = pool.iloc[:n]
    return pool.rename(columns=column_names(naming))
