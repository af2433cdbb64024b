"""No key material in any log line, exception text, audit record, CLI output or object repr."""

from __future__ import annotations

import base64
import logging

import pandas as pd
import pytest

from omniguard.crypto import DecryptionError
from omniguard.errors import OmniguardError
from omniguard.workspace import Workspace

PHONE = "13800138000"


def _forms(key: bytes) -> list[str]:
    return [key.hex(), key.hex().upper(), base64.b64encode(key).decode().rstrip("="),
            base64.urlsafe_b64encode(key).decode().rstrip("="), base64.b32encode(key).decode().rstrip("=").lower(),
            repr(key)[2:-1]]


def test_no_key_material_anywhere(tmp_path, cli, caplog):
    caplog.set_level(logging.DEBUG)
    root = tmp_path / "ws"
    outputs: list[str] = []

    def run(args: str) -> None:
        r = cli(args, cwd=root)
        outputs.extend([r.stdout, r.stderr])

    assert cli(f"init {root} --actor t").exit_code == 0
    (root / "m.csv").write_text(f"id,phone\nM1,{PHONE}\nM2,13900139000\n", encoding="utf-8")
    for args in ("keys init", "encrypt m.csv --columns phone -o e.csv", "decrypt e.csv --role dpo -o d.csv",
                 "decrypt e.csv -o d.csv", "encrypt m.csv --columns phone --subject-column id -o s.csv",
                 "keys rotate --all --rewrap", "reencrypt e.csv -o e2.csv", "keys list --json", "keys shred M1",
                 "token file m.csv --columns phone -o t.csv", "keys public --json", "--debug keys list"):
        run(args)
    (root / "bad.csv").write_text("id,phone\nM1," + (root / "e.csv").read_text().split(",")[-1][:-9] + "AAAAAAAA\n")
    run("decrypt bad.csv --role dpo -o x.csv")

    ws = Workspace.open(root)
    kr = ws.keyring
    errors: list[str] = []
    c = kr.column_cipher("m.csv", "phone")
    enc = c.encrypt(pd.Series([PHONE]), pd.Series(["M9"]))
    for attempt in (lambda: c.decrypt(enc.str.slice(0, -4), pd.Series(["M9"])),
                    lambda: c.decrypt(enc, pd.Series(["M2"])),  # another subject with a key
                    lambda: kr.column_cipher("m.csv", "other").decrypt(c.encrypt(pd.Series([PHONE])))):
        with pytest.raises(DecryptionError) as e:
            attempt()
        errors.append(str(e.value))
    try:
        kr.tokenizer("join:nobody")
    except OmniguardError as e:
        errors.append(str(e))

    material = [(root / "keys" / "master.key").read_text().strip().encode()]
    material.append(base64.b64decode(material[0]))
    for ks in kr.keysets():
        for v in kr.versions(ks):
            if not v["destroyed"]:
                material.append(kr.key_bytes(ks.key_id, v["version"]))
    material += [h._key for h in kr.subject_keys(["M2", "M9"]) if h is not None]
    material += [kr._kek(1), kr._kek(2), kr._subject_index_key, ws.signer.private_bytes()]
    assert len(material) >= 8

    audit = "\n".join(str(ev) for ev in ws.audit.query())
    reprs = " ".join(repr(x) for x in (kr, c, kr.tokenizer(), kr.key(c.key_id, c.version), ws.signer, ws))
    haystacks = {"cli output": "\n".join(outputs), "log records": caplog.text, "exceptions": "\n".join(errors),
                 "audit records": audit, "reprs": reprs}
    assert "decrypt" in audit and "key.shred" in audit and "cannot decrypt" in haystacks["exceptions"]
    for where, text in haystacks.items():
        for key in material:
            for form in _forms(key):
                assert form not in text, f"key material in {where}"
    for where in ("log records", "exceptions", "audit records", "reprs"):
        assert PHONE not in haystacks[where] and "M1" not in haystacks["audit records"], where
