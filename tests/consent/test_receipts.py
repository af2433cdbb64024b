"""Consent receipts: Kantara v1.1 fields, SM2 signature, offline verification, tamper detection."""

from __future__ import annotations

import copy
import json

import pytest

from omniguard.consent import receipts
from omniguard.crypto.sm2 import SM2KeyPair
from omniguard.errors import InputError


def test_receipt_fields_and_signature(workspace):
    ws = workspace
    rec = ws.consent.grant("M1", "health_services", notice="health-consent@1", separate=True, channel="store",
                           evidence={"form": "pharmacy-v3", "accepted": "signature pad"}, sign=True)
    doc = rec.receipt
    body = doc["receipt"]
    assert body["version"] == "KI-CR-v1.1.0" and body["jurisdiction"] == "CN"
    assert body["piiPrincipalId"] == "M1" and body["collectionMethod"] == "store"
    assert body["sensitive"] is True and set(body["spiCat"]) == {"health", "identity_document"}
    assert body["event"]["type"] == "given" and body["event"]["separateConsent"] is True
    assert len(body["event"]["notice"]["textSM3"]) == 64
    assert body["services"][0]["purposes"][0]["purposeCategory"] == ["health_services"]
    ok, fp = receipts.verify(doc, ws.signer.public_key)
    assert ok and fp == ws.signer.fingerprint()
    assert ws.consent.receipt(rec.event_id)["consentReceiptID"] == body["consentReceiptID"]  # stable id
    # The issued document is kept, and the act of signing is audited.
    assert next(ws.audit.query(action="consent.receipt"))["consent_ref"] == rec.event_id


def test_tampered_or_foreign_receipts_fail(workspace):
    ws = workspace
    ws.consent.grant("M2", "analytics", notice="privacy-notice@1")
    doc = ws.consent.withdraw("M2", "analytics", sign=True).receipt
    assert doc["receipt"]["event"]["type"] == "withdrawn"
    forged = copy.deepcopy(doc)
    forged["receipt"]["event"]["type"] = "given"
    assert receipts.verify(forged, ws.signer.public_key)[0] is False
    other = SM2KeyPair.generate()
    assert receipts.verify(doc, other.public_key)[0] is False
    resigned = receipts.sign(forged["receipt"], other)
    assert receipts.verify(resigned)[0] is True  # valid under its own embedded key...
    assert receipts.verify(resigned, ws.signer.public_key)[0] is False  # ...but not under the controller's
    with pytest.raises(InputError):
        receipts.verify({"receipt": {}})


def test_cli_receipt_and_offline_verification(workspace, cli, tmp_path):
    root = workspace.root
    res = cli(f"-w {root} consent grant M3 analytics --notice privacy-notice@1 --receipt {tmp_path / 'r.json'} --sign --json")
    assert res.exit_code == 0, res.stderr
    event_id = res.json()["event_id"]
    key = tmp_path / "pub.txt"
    assert cli(f"-w {root} audit public-key -o {key}").exit_code == 0
    # Offline: no workspace, the controller's published key.
    res = cli(f"consent verify-receipt {tmp_path / 'r.json'} --public-key {key} --json", cwd=tmp_path)
    assert res.exit_code == 0 and res.json()["valid"] and res.json()["trusted_key"]
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    doc["receipt"]["piiPrincipalId"] = "M4"
    (tmp_path / "bad.json").write_text(json.dumps(doc), encoding="utf-8")
    res = cli(f"consent verify-receipt {tmp_path / 'bad.json'} --public-key {key}", cwd=tmp_path)
    assert res.exit_code == 1 and "does not verify" in res.stderr
    res = cli(f"-w {root} consent receipt {event_id} --json")
    assert res.exit_code == 0 and res.json()["event"]["eventId"] == event_id
    assert cli(f"-w {root} consent receipt nope").exit_code == 2
