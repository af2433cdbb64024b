"""Issue 5 benchmark: SM4-GCM bulk and column throughput, tokens, SM2 (medians, same-run baselines).

    .venv/bin/python benchmarks/bench_crypto.py [--cells 1000000] [--repeats 3] [--json]

* bulk: SM4-GCM (omniguard's recipe, OpenSSL) on 16 MiB buffers vs SM4-CTR through
  ``cryptography`` and ``openssl speed -evp sm4-ctr`` (16 KiB blocks), all on this machine.
* column: ``ColumnCipher.encrypt`` / ``decrypt`` of N phone numbers (11 characters) and of N
  resident-id numbers (18 characters) vs a naive per-cell ``Cipher(SM4, GCM)`` loop (same format,
  base64 per cell) and vs gmssl's pure-Python SM4 (one ECB call per cell, the cheapest thing
  gmssl offers; measured on a sample and extrapolated).
* tokens: ``Tokenizer.tokenize`` of N distinct phone numbers; SM2 sign and verify per second.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def openssl_speed_sm4_ctr() -> float | None:
    """Bytes/s of `openssl speed -evp sm4-ctr` at 16 KiB blocks, or None without openssl."""
    if not shutil.which("openssl"):
        return None
    r = subprocess.run(["openssl", "speed", "-evp", "sm4-ctr", "-seconds", "1", "-bytes", "16384"],
                       capture_output=True, text=True)
    m = re.search(r"^SM4-CTR\s+([\d.]+)k", r.stdout, re.M)
    return float(m.group(1)) * 1000 if m else None


def bench_bulk(repeats: int) -> dict:
    """Interleaved rounds (GCM, CTR, openssl speed) so a busy neighbour hits all three alike."""
    from omniguard.crypto.sm4 import SM4GCM

    key, data = secrets.token_bytes(16), os.urandom(16 << 20)
    gcm = SM4GCM(key)
    gcm_rates, ctr_rates, ossl_rates = [], [], []
    for _ in range(repeats):
        gcm_rates.append(len(data) / median_time(lambda: gcm.encrypt(secrets.token_bytes(12), data, b"aad"), 1))
        ctr_rates.append(len(data) / median_time(
            lambda: Cipher(algorithms.SM4(key), modes.CTR(os.urandom(16))).encryptor().update(data), 1))
        ossl = openssl_speed_sm4_ctr()
        if ossl:
            ossl_rates.append(ossl)
    g, c = statistics.median(gcm_rates), statistics.median(ctr_rates)
    o = statistics.median(ossl_rates) if ossl_rates else None
    return {"sm4_gcm_MBps": g / 1e6, "sm4_ctr_cryptography_MBps": c / 1e6,
            "openssl_speed_sm4_ctr_MBps": o / 1e6 if o else None, "gcm_vs_ctr_cryptography": g / c,
            "gcm_vs_openssl_speed_ctr": g / o if o else None}


def naive_encrypt(key: bytes, values: list[str], aad: bytes) -> list[str]:
    """What a straightforward implementation does: one OpenSSL GCM context per cell."""
    out = []
    header = b"\x48\xce\x01\x00" + bytes(8)
    for v in values:
        nonce = os.urandom(12)
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        ct = enc.update(v.encode()) + enc.finalize()
        out.append(base64.b64encode(header + nonce + ct + enc.tag).decode())
    return out


def gmssl_encrypt(key: bytes, values: list[str]) -> list[bytes]:
    from gmssl.sm4 import SM4_ENCRYPT, CryptSM4

    c = CryptSM4()
    c.set_key(key, SM4_ENCRYPT)
    return [c.crypt_ecb(v.encode()) for v in values]


def bench_column(ws, n: int, repeats: int, kind: str) -> dict:
    values = [f"1{i:010d}" for i in range(n)] if kind == "phone" else [f"11010119{i:010d}" for i in range(n)]
    s = pd.Series(values)
    cipher = ws.keyring.column_cipher("bench.csv", kind)
    enc = cipher.encrypt(s)
    t_enc = median_time(lambda: cipher.encrypt(s), repeats)
    t_dec = median_time(lambda: cipher.decrypt(enc, audit=False), repeats)
    assert cipher.decrypt(enc, audit=False).equals(s.astype("str"))
    key = secrets.token_bytes(16)
    naive_n = min(n, 100_000)
    t_naive = median_time(lambda: naive_encrypt(key, values[:naive_n], b"aad"), repeats) * n / naive_n
    gm_n = min(n, 2_000)
    t_gm = median_time(lambda: gmssl_encrypt(key, values[:gm_n]), repeats) * n / gm_n
    return {"cells": n, "value_chars": len(values[0]), "encrypt_cells_per_s": n / t_enc,
            "decrypt_cells_per_s": n / t_dec, "naive_per_cell_cells_per_s": n / t_naive,
            "gmssl_pure_python_cells_per_s": n / t_gm, "encrypt_vs_naive": t_naive / t_enc,
            "encrypt_vs_gmssl": t_gm / t_enc, "naive_sample": naive_n, "gmssl_sample": gm_n}


def bench_subject_path(ws, n: int, repeats: int) -> dict:
    s = pd.Series([f"1{i:010d}" for i in range(n)])
    ids = pd.Series([f"M{i}" for i in range(n)])
    cipher = ws.keyring.column_cipher("bench.csv", "per-subject")
    t_first = median_time(lambda: cipher.encrypt(s, ids), 1)  # creates n subject keys
    t_enc = median_time(lambda: cipher.encrypt(s, ids), repeats)
    return {"cells": n, "first_encrypt_with_key_creation_cells_per_s": n / t_first,
            "encrypt_cells_per_s": n / t_enc}


def bench_tokens(ws, n: int, repeats: int) -> dict:
    s = pd.Series([f"1{i:010d}" for i in range(n)])
    tok = ws.keyring.tokenizer("org")
    t = median_time(lambda: tok.tokenize(s), repeats)
    repeated = pd.Series([f"1{i % 1000:010d}" for i in range(n)])
    t_rep = median_time(lambda: tok.tokenize(repeated), repeats)
    return {"cells": n, "distinct_tokens_per_s": n / t, "tokens_per_s_1000_distinct": n / t_rep}


def bench_sm2(repeats: int) -> dict:
    from omniguard.crypto.sm2 import SM2KeyPair, sm2_verify

    pair, msg, k = SM2KeyPair.generate(), b"checkpoint 123456 " + bytes(32), 40
    sig = pair.sign(msg)
    t_sign = median_time(lambda: [pair.sign(msg) for _ in range(k)], repeats) / k
    t_verify = median_time(lambda: [sm2_verify(pair.public_key, msg, sig) for _ in range(k)], repeats) / k
    return {"sign_per_s": 1 / t_sign, "verify_per_s": 1 / t_verify}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=1_000_000)
    ap.add_argument("--subject-cells", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from omniguard.workspace import Workspace

    with tempfile.TemporaryDirectory() as d:
        ws = Workspace.init(Path(d) / "ws", actor="bench")
        results = {
            "bulk": bench_bulk(args.repeats),
            "column_phone": bench_column(ws, args.cells, args.repeats, "phone"),
            "column_resident_id": bench_column(ws, args.cells, args.repeats, "resident_id"),
            "column_per_subject": bench_subject_path(ws, args.subject_cells, args.repeats),
            "tokens": bench_tokens(ws, args.cells, args.repeats),
            "sm2": bench_sm2(args.repeats),
            "repeats": args.repeats,
        }
        ws.close()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for section, vals in results.items():
        if isinstance(vals, dict):
            print(f"[{section}]")
            for k, v in vals.items():
                print(f"  {k:44s} {v:,.2f}" if isinstance(v, float) else f"  {k:44s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
