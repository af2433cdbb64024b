"""SM2 keys as PEM and hex; OpenSSL reads them and verifies our signatures."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from omniguard.crypto import sm2
from omniguard.crypto.sm2 import SM2KeyPair, sm2_verify


def test_pem_and_hex_round_trip():
    pair = SM2KeyPair.generate()
    pem = sm2.public_key_pem(pair.public_key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert sm2.public_key_from_pem(pem) == pair.public_key
    again = sm2.private_key_from_pem(sm2.private_key_pem(pair))
    assert again.public_key == pair.public_key
    assert sm2_verify(bytes.fromhex(pair.public_key.hex()), b"m", again.sign(b"m"))
    with pytest.raises(ValueError):
        sm2.public_key_from_pem(pem.replace("PUBLIC KEY", "CERTIFICATE"))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_openssl_reads_the_keys_and_verifies_the_signature(tmp_path):
    pair = SM2KeyPair.generate()
    (tmp_path / "pub.pem").write_text(sm2.public_key_pem(pair.public_key))
    (tmp_path / "key.pem").write_text(sm2.private_key_pem(pair))
    (tmp_path / "msg").write_bytes(b"audit checkpoint 42")
    (tmp_path / "sig").write_bytes(sm2.signature_der(pair.sign(b"audit checkpoint 42")))
    pub = subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "key.pem"), "-pubout"], capture_output=True,
                         text=True, check=True).stdout
    assert pub == sm2.public_key_pem(pair.public_key)
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
                        "-digest", "sm3", "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig"),
                        "-pkeyopt", "distid:1234567812345678"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp_path / "msg").write_bytes(b"audit checkpoint 43")
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
                        "-digest", "sm3", "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig"),
                        "-pkeyopt", "distid:1234567812345678"], capture_output=True, text=True)
    assert r.returncode != 0
