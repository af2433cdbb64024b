"""omniguard's recognizer pack for Presidio: Chinese identifiers, names, plus e-mail and IP.

``build_registry`` is the only place the set is assembled; the analyzer never loads Presidio's
default recognizers (several need an NER model, the credit-card one mistakes EAN-13 barcodes for
cards, the URL one fires on every e-mail domain).
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerRegistry
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IpRecognizer

from omniguard.classify.recognizers.cn import CN_RECOGNIZERS
from omniguard.classify.recognizers.names import CnPersonNameRecognizer

# How strong the evidence behind an entity's match is; the column classifier sets its prevalence
# floors from this (a checksum passes random strings 3-10% of the time, a bare pattern far more).
CHECKSUM = "checksum"
PATTERN = "pattern"
CONTEXT_ONLY = "context"
STRENGTH: dict[str, str] = {
    "CN_RESIDENT_ID": CHECKSUM, "BANK_CARD": CHECKSUM, "CN_USCC": CHECKSUM, "HK_ID": CHECKSUM, "TW_ID": CHECKSUM,
    "CN_MOBILE": PATTERN, "CN_LANDLINE": PATTERN, "EMAIL_ADDRESS": PATTERN, "IP_ADDRESS": PATTERN,
    "GPS_COORDINATE": PATTERN, "CN_LICENSE_PLATE": PATTERN, "CN_ADDRESS": PATTERN, "PERSON": PATTERN,
    "CN_PASSPORT": CONTEXT_ONLY, "CN_TRAVEL_PERMIT": CONTEXT_ONLY, "WECHAT_ID": CONTEXT_ONLY,
    "WECHAT_OPENID": CONTEXT_ONLY, "CN_POSTAL_CODE": CONTEXT_ONLY,
}


def recognizers_for(language: str) -> list[EntityRecognizer]:
    out: list[EntityRecognizer] = [cls(supported_language=language) for cls in CN_RECOGNIZERS]
    out.append(CnPersonNameRecognizer(supported_language=language))
    out.append(EmailRecognizer(supported_language=language, context=["email", "mail", "邮箱", "电子邮箱", "邮件"]))
    out.append(IpRecognizer(supported_language=language, context=["ip", "ipv4", "ipv6", "ip地址"]))
    return out


def build_registry(languages: tuple[str, ...] = ("zh", "en")) -> RecognizerRegistry:
    registry = RecognizerRegistry(supported_languages=list(languages))
    for lang in languages:
        for rec in recognizers_for(lang):
            registry.add_recognizer(rec)
    return registry


def supported_entities() -> list[str]:
    return sorted(STRENGTH)
