"""Consent receipts: Kantara Consent Receipt v1.1 fields with the ISO/IEC TS 27560 event, signed
with the workspace's SM2 key on request and verifiable offline with the public key alone.

A receipt is rendered from the stored event, so every grant and withdrawal has one without storing
a million documents after an import. A signed receipt is stored as issued (the signature is
randomised), and its bytes are the canonical JSON of ``receipt`` (keys sorted, no whitespace,
UTF-8), which is what the signature covers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import yaml

from omniguard.audit.chain import canonical
from omniguard.consent.notices import terms_of
from omniguard.crypto.sm2 import SM2KeyPair, public_key_fingerprint, sm2_verify
from omniguard.errors import InputError
from omniguard.policy import PolicyPack

KANTARA_VERSION = "KI-CR-v1.1.0"
SIGNATURE_ALG = "SM2-with-SM3"
_NS = uuid.UUID("6f6d6e69-6775-6172-642d-636f6e73656e")  # "omniguard-consen"
_EVENT_27560 = {"grant": "given", "withdraw": "withdrawn", "expire": "expired"}


def receipt_id(workspace_id: str, event_id: str) -> str:
    """Stable per event and workspace, so re-rendering a receipt gives the same id."""
    return str(uuid.uuid5(_NS, f"{workspace_id}/{event_id}"))


def controller(pack: PolicyPack) -> dict[str, Any]:
    """The PII controller named on receipts, from ``policies/controller.yaml`` when present."""
    path = Path(pack.directory) / "controller.yaml"
    if not path.is_file():
        return {"piiController": "(set policies/controller.yaml)"}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        raise InputError("policies/controller.yaml: not valid YAML text") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise InputError("policies/controller.yaml: expected a mapping with at least 'name'")
    out = {"piiController": data["name"]}
    for key, field in (("contact", "contact"), ("address", "address"), ("email", "email"), ("phone", "phone"),
                       ("policy_url", "policyUrl")):
        if data.get(key):
            out[field] = str(data[key])
    return out


def render(pack: PolicyPack, workspace_id: str, event: dict[str, Any], notice_sm3: str | None) -> dict[str, Any]:
    """The receipt of one grant, withdrawal or expiry (``event`` is a ``consent_events`` row)."""
    purpose = pack.purpose(event["purpose"])
    ctrl = controller(pack)
    notice = None
    terms = None
    if event.get("notice_id") and event.get("notice_version"):
        notice = pack.notice(event["notice_id"], int(event["notice_version"]))
        terms = terms_of(notice, purpose.id)
    categories = list(terms.categories if terms else purpose.categories)
    sensitive = sorted(c for c in categories if pack.category(c).pipl_sensitive)
    third = list(terms.third_parties if terms else (t.name for t in purpose.third_parties))
    ts = dt.datetime.fromisoformat(event["ts"].replace("Z", "+00:00"))
    body: dict[str, Any] = {
        "version": KANTARA_VERSION,
        "jurisdiction": "CN",
        "consentTimestamp": int(ts.timestamp()),
        "collectionMethod": event["channel"],
        "consentReceiptID": receipt_id(workspace_id, event["event_id"]),
        "language": notice.language if notice else "zh-CN",
        "piiPrincipalId": event["subject_id"],
        "piiControllers": [{k: v for k, v in ctrl.items() if k != "policyUrl"}],
        "policyUrl": ctrl.get("policyUrl") or (f"notice:{notice.id}@{notice.version}" if notice else ""),
        "services": [{
            "service": purpose.name,
            "purposes": [{
                "purpose": purpose.description or purpose.name,
                "purposeCategory": [purpose.id],
                "consentType": "EXPLICIT",
                "piiCategory": categories,
                "primaryPurpose": False,
                "termination": event.get("expires_at") or "on withdrawal",
                "thirdPartyDisclosure": bool(third),
                **({"thirdPartyName": ", ".join(third)} if third else {}),
            }],
        }],
        "sensitive": bool(sensitive),
        "spiCat": sensitive,
        # ISO/IEC TS 27560 event and the PIPL specifics Kantara has no field for.
        "event": {
            "type": _EVENT_27560.get(event["action"], event["action"]),
            "eventId": event["event_id"],
            "time": event["ts"],
            "legalBasis": "PIPL Art. 13(1)1 consent",
            "separateConsent": bool(event.get("separate")),
            "guardianConsent": bool(event.get("guardian_ref")),
            **({"guardianRef": event["guardian_ref"]} if event.get("guardian_ref") else {}),
            **({"notice": {"id": notice.id, "version": notice.version, "published": notice.published.isoformat(),
                           "textSM3": notice_sm3}} if notice else {}),
        },
    }
    return body


def sign(receipt: dict[str, Any], signer: SM2KeyPair) -> dict[str, Any]:
    """A signed receipt document: ``{"receipt": ..., "signature": {...}}``."""
    body = dict(receipt, publicKey=signer.public_key.hex())
    return {
        "receipt": body,
        "signature": {
            "alg": SIGNATURE_ALG,
            "publicKey": signer.public_key.hex(),
            "keyFingerprint": signer.fingerprint(),
            "value": signer.sign(canonical(body)).hex(),
        },
    }


def verify(document: dict[str, Any], public_key: bytes | None = None) -> tuple[bool, str]:
    """(valid, which key) for a signed receipt. Without ``public_key`` the key embedded in the
    document is used: that proves integrity, and who signed only once its fingerprint is compared
    with the controller's published key."""
    try:
        body = document["receipt"]
        sig = document["signature"]
        value = bytes.fromhex(sig["value"])
        embedded = bytes.fromhex(sig["publicKey"])
    except (KeyError, TypeError, ValueError):
        raise InputError("not a signed consent receipt (expected 'receipt' and 'signature' with hex fields)") from None
    if sig.get("alg") != SIGNATURE_ALG:
        raise InputError(f"unsupported receipt signature algorithm (expected {SIGNATURE_ALG})")
    key = public_key or embedded
    if public_key is not None and body.get("publicKey") not in (None, public_key.hex()):
        return False, public_key_fingerprint(public_key)
    return sm2_verify(key, canonical(body), value), public_key_fingerprint(key)
