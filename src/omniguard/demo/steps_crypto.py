"""Crypto steps of the demo: SM4 field encryption, a denied and an allowed decrypt, tokens for a
partner, key rotation with re-encryption, and crypto-shredding of one member."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from omniguard.demo import DemoContext, Step
from omniguard.errors import AccessDenied


def _members(ctx: DemoContext) -> pd.DataFrame:
    given = ctx.data.get("members")
    if isinstance(given, pd.DataFrame) and {"member_id", "phone"} <= set(given.columns):
        return given
    rng = np.random.default_rng(ctx.seed)
    n = 2000
    return pd.DataFrame({
        "member_id": [f"M{i:06d}" for i in range(n)],
        "name": rng.choice(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"], n),
        "phone": [f"1{p}{x:08d}" for p, x in zip(rng.choice([38, 39, 58, 86], n), rng.integers(0, 10**8, n),
                                                   strict=True)],
        "city": rng.choice(["北京", "上海", "广州", "深圳", "杭州"], n),
    })


def encrypt_members(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.crypto.frame import encrypt_frame
    from omniguard.tabular import write_table

    df = _members(ctx)
    res = encrypt_frame(ctx.ws, df, ["phone"], dataset="crm/members.csv")
    res = encrypt_frame(ctx.ws, res.frame, ["name"], dataset="crm/members.csv", subject_column="member_id")
    path = ctx.directory / "members.encrypted.csv"
    write_table(res.frame, path)
    ctx.data["members_encrypted"] = path
    return {"encrypted_cells": int(df[["phone", "name"]].notna().sum().sum()), "file": str(path),
            "sample_cell": res.frame["phone"].iloc[0][:24] + "..."}


def decrypt_by_role(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.crypto.frame import decrypt_frame
    from omniguard.tabular import read_table

    enc = read_table(ctx.data["members_encrypted"])
    try:
        decrypt_frame(ctx.ws, enc, dataset="crm/members.csv", role="analyst", actor="analyst-li@retailer")
        analyst = "allowed (unexpected)"
    except AccessDenied:
        analyst = "denied and audited"
    res = decrypt_frame(ctx.ws, enc, dataset="crm/members.csv", role="dpo", actor="demo-dpo@retailer",
                        purpose="membership")
    return {"analyst": analyst, "dpo_decrypted_cells": res.cells}


def tokens_for_partner(ctx: DemoContext) -> dict[str, Any]:
    df = _members(ctx)
    org = ctx.ws.keyring.tokenizer("org").tokenize(df["phone"])
    partner = ctx.ws.keyring.tokenizer("partner:brand").tokenize(df["phone"])
    return {"org_token_example": org.iloc[0], "partner_token_example": partner.iloc[0],
            "org_and_partner_tokens_join": bool(org.isin(partner).any())}


def rotate_and_reencrypt(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.crypto.frame import reencrypt_frame
    from omniguard.tabular import read_table, write_table

    kr = ctx.ws.keyring
    version = kr.rotate(kr.column_keyset("crm/members.csv", "phone"))
    res = reencrypt_frame(ctx.ws, read_table(ctx.data["members_encrypted"]), dataset="crm/members.csv")
    write_table(res.frame, ctx.data["members_encrypted"])
    kr.destroy_version(kr.column_keyset("crm/members.csv", "phone"), version - 1)
    rewrap = kr.rewrap()
    return {"phone_key_version": version, "reencrypted_cells": res.cells, "kek_generation": rewrap["kek_version"]}


def crypto_shred(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.tabular import read_table

    enc = read_table(ctx.data["members_encrypted"])
    subject = str(enc["member_id"].iloc[0])
    destroyed = ctx.ws.keyring.shred_subject(subject)
    names = ctx.ws.keyring.column_cipher("crm/members.csv", "name").decrypt(
        enc["name"], enc["member_id"], actor="demo-dpo@retailer", role="dpo", purpose="membership")
    return {"key_destroyed": destroyed, "erased_member_readable": bool(names.notna().iloc[0]),
            "other_members_readable": int(names.notna().sum())}


STEPS = [
    Step(300, "Encrypt phone numbers (SM4-GCM) and names (per-member keys) in the member table", encrypt_members),
    Step(310, "Decrypt: an analyst is denied, the DPO decrypts (both audited)", decrypt_by_role),
    Step(320, "Tokens (HMAC-SM3): organisation-wide vs for one partner", tokens_for_partner),
    Step(330, "Rotate the phone key, re-encrypt, destroy the old version, re-wrap all keys", rotate_and_reencrypt),
    Step(340, "Crypto-shred one member: their name is gone, everyone else's still decrypts", crypto_shred),
]
