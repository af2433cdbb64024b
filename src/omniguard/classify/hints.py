"""What a column's name says: entity priors in English, Chinese and pinyin initials, negative cues.

The name is used twice, as Amazon Macie and the notes recommend: as a **prior** (which entities
this column probably holds, which lowers the prevalence the values must reach) and as Presidio
**context** for every sampled value. Negative cues (订单号, sku, txn, 编号, ``ddh``...) raise the bar
instead: an order number that happens to be ID-shaped must be near-perfectly valid to count.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

# entity -> (English tokens or token pairs, Chinese substrings, pinyin-initial tokens)
_HINTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "PERSON": (("name", "fullname", "username_cn", "consignee", "receiver", "recipient", "cardholder"),
               ("姓名", "名字", "收货人", "收件人", "联系人", "持卡人", "客户名", "寄件人"), ("xm", "khxm", "shr", "sjr", "lxr")),
    "CN_MOBILE": (("mobile", "cellphone", "cell", "phone", "tel", "telephone", "msisdn"), ("手机", "电话", "联系方式"),
                  ("sjh", "sj", "sjhm", "lxdh", "dh")),
    "CN_LANDLINE": (("landline", "phone", "tel", "telephone", "fax"), ("座机", "固话", "固定电话", "电话", "传真"),
                    ("zj", "gddh", "jtdh", "bgdh", "dh", "lxdh")),
    "CN_RESIDENT_ID": (("idcard", "id_card", "id_no", "id_number", "identity", "citizen_id", "national_id", "sfz"),
                       ("身份证", "证件号", "公民身份"), ("sfz", "sfzh", "sfzhm", "zjhm", "zjh")),
    "EMAIL_ADDRESS": (("email", "e_mail", "mail"), ("邮箱", "电子邮件"), ("yx", "dzyx")),
    "BANK_CARD": (("bank_card", "bankcard", "card_no", "card_number", "cardno", "pan", "iban", "account_no"),
                  ("银行卡", "卡号", "银行账号", "借记卡", "信用卡", "储蓄卡"), ("yhk", "yhkh", "yhzh")),
    "CN_ADDRESS": (("address", "addr"), ("地址", "住址"), ("dz", "shdz", "jtzz", "zz", "xxdz")),
    "IP_ADDRESS": (("ip", "ipv4", "ipv6", "ip_addr"), ("ip地址",), ("dlip",)),
    "CN_LICENSE_PLATE": (("plate", "license_plate", "car_no", "vehicle_no", "plate_no"), ("车牌", "号牌"), ("cph",)),
    "GPS_COORDINATE": (("gps", "location", "latlng", "lnglat", "coordinates", "coordinate", "geo", "lat", "lng", "lon",
                        "latitude", "longitude"), ("坐标", "经纬度", "定位", "纬度", "经度"), ("dwzb", "jwd", "zb")),
    "WECHAT_OPENID": (("openid", "unionid", "open_id", "union_id"), ("openid", "unionid"), ("wxopenid",)),
    "WECHAT_ID": (("wechat", "weixin", "wxid", "wx_id", "wechat_id", "wx"), ("微信号", "微信"), ("wxh",)),
    "CN_USCC": (("uscc", "credit_code", "tax_id", "tax_no", "taxpayer_id", "tin"),
                ("信用代码", "税号", "纳税人识别号"), ("tyshxydm", "xydm", "fpsh", "nsrsbh")),
    "CN_PASSPORT": (("passport",), ("护照",), ("hzh", "hzhm")),
    "CN_TRAVEL_PERMIT": (("permit",), ("通行证", "回乡证", "台胞证"), ("txz",)),
    "HK_ID": (("hkid",), ("香港身份证",), ()),
    "TW_ID": (("twid",), ("台湾身份证", "身分證"), ()),
    "CN_POSTAL_CODE": (("zip", "zipcode", "postcode", "postal_code", "postal"), ("邮编", "邮政编码"), ("yb", "yzbm")),
    # entities without a value recognizer: the name decides, a cheap value check confirms
    "PASSWORD": (("password", "passwd", "pwd", "pass_hash", "password_hash", "pin", "secret"), ("密码", "口令"), ("mm",)),
    "CARD_SECURITY_CODE": (("cvv", "cvv2", "cvn", "cvn2", "cvc", "security_code"), ("安全码",), ()),
    "ONE_TIME_CODE": (("otp", "sms_code", "verify_code", "verification_code", "captcha"), ("验证码",), ("yzm",)),
    "API_KEY": (("api_key", "apikey", "access_token", "token", "secret_key", "refresh_token"), ("令牌", "密钥"), ()),
    "DATE_OF_BIRTH": (("birthday", "birth_date", "birthdate", "dob", "date_of_birth"), ("生日", "出生日期", "出生年月"),
                      ("sr", "csrq")),
    "GENDER": (("gender", "sex"), ("性别",), ("xb",)),
    "AGE": (("age",), ("年龄",), ("nl",)),
    "HEALTH": (("allergy", "allergies", "diagnosis", "prescription", "medical", "health", "pregnancy", "disease",
                "symptom", "medication"), ("过敏", "处方", "诊断", "病史", "健康", "孕", "疾病", "用药"), ()),
    "SPECIAL_IDENTITY": (("disability", "religion", "veteran", "orientation"), ("残疾", "宗教", "信仰", "军人", "退役"), ()),
    "BIOMETRIC": (("face", "face_image", "face_feature", "fingerprint", "voiceprint", "iris"), ("人脸", "指纹", "声纹", "虹膜"),
                  ()),
    "DEVICE_ID": (("imei", "oaid", "idfa", "android_id", "device_id", "udid"), ("设备号", "设备标识"), ()),
    "EMPLOYMENT": (("salary", "income", "employer", "job_title", "occupation"), ("工资", "薪资", "收入", "职业", "工作单位"),
                   ()),
}
NAME_ONLY = frozenset({"PASSWORD", "CARD_SECURITY_CODE", "ONE_TIME_CODE", "API_KEY", "DATE_OF_BIRTH", "GENDER", "AGE",
                       "HEALTH", "SPECIAL_IDENTITY", "BIOMETRIC", "DEVICE_ID", "EMPLOYMENT"})

# Words that make a column business data: an ID-shaped order number is still an order number.
_NEGATIVE_TOKENS = frozenset({
    "order", "sku", "txn", "transaction", "trade", "serial", "barcode", "ean", "upc", "coupon", "voucher", "promo",
    "pickup", "ticket", "receipt", "batch", "invoice_no", "status", "amount", "price", "qty", "quantity", "score",
    "rating", "product", "goods", "item", "brand", "store", "shop", "merchant", "created", "updated", "timestamp",
    "member_no", "member_id", "seq", "flow", "logistics", "tracking", "waybill",
})
_NEGATIVE_ZH = ("订单", "单号", "编号", "流水", "条码", "券", "商品", "产品", "品牌", "门店", "店铺", "金额", "价格", "状态",
                "时间", "评分", "取货码", "优惠", "物流", "运单")
_NEGATIVE_PINYIN = frozenset({"ddh", "hybh", "jylsh", "lsh", "sptm", "spmc", "yhqm", "qhm", "ddzt", "je", "xdsj", "pf",
                              "bh", "tm", "ydh", "wlh"})
# A person's name is never in a column named for a product, brand, store or company.
_NOT_PERSON = frozenset({"product", "goods", "item", "brand", "store", "shop", "merchant", "company", "sku", "商品",
                         "产品", "品牌", "门店", "店铺", "公司", "spmc", "ppmc", "mdmc"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TOKEN = re.compile(r"[0-9a-z]+|[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class NameHint:
    """What a column name suggests."""

    entities: frozenset[str] = frozenset()
    negative: bool = False
    not_person: bool = False
    tokens: tuple[str, ...] = ()
    context: tuple[str, ...] = field(default=())  # words handed to Presidio as context

    @property
    def name_only(self) -> frozenset[str]:
        return self.entities & NAME_ONLY


def tokens_of(name: str) -> tuple[str, ...]:
    """``customerMobile_no`` -> (customer, mobile, no); ``登录IP`` -> (登录, ip)."""
    return tuple(_TOKEN.findall(_CAMEL.sub("_", name.strip()).lower()))


def hint_for(name: str, canonical_context: dict[str, tuple[str, ...]] | None = None) -> NameHint:
    """Entity priors and cues of one column name. ``canonical_context`` maps an entity to words
    its recognizer knows as context, so a pinyin name such as ``sjh`` still boosts the value."""
    toks = tokens_of(name)
    low = name.strip().lower()
    pairs = {f"{a}_{b}" for a, b in itertools.pairwise(toks)} | {"".join(toks)}
    words = set(toks) | pairs
    entities = set()
    for entity, (en, zh, py) in _HINTS.items():
        if words & set(en) or any(z in low for z in zh) or words & set(py):
            entities.add(entity)
    if "WECHAT_OPENID" in entities:
        entities.discard("WECHAT_ID")  # wx_openid: the openid, not the WeChat id
    if entities & {"CN_LANDLINE", "CN_MOBILE"} and ({"landline", "座机", "固话"} & (words | {low})
                                                    or any(z in low for z in ("座机", "固话", "固定电话", "家庭电话"))):
        entities.discard("CN_MOBILE")
    if "CN_MOBILE" in entities and ({"mobile", "cellphone", "cell", "sjh", "sj", "sjhm"} & words or "手机" in low):
        entities.discard("CN_LANDLINE")
    negative = bool(words & _NEGATIVE_TOKENS or any(z in low for z in _NEGATIVE_ZH) or words & _NEGATIVE_PINYIN)
    not_person = bool(words & _NOT_PERSON or any(z in low for z in _NOT_PERSON if not z.isascii()))
    context = list(dict.fromkeys([*toks, low.replace(" ", "_")]))
    for e in sorted(entities):
        context.extend((canonical_context or {}).get(e, ()))
    return NameHint(frozenset(entities), negative, not_person, toks, tuple(dict.fromkeys(context)))
