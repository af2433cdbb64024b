"""The coordinator-signed model: SM2 signature, tamper detection, local scoring."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from profiling_helpers import spec_text

from omniguard.crypto.sm2 import SM2KeyPair
from omniguard.errors import InputError, VerificationFailed
from omniguard.profiling.federated.model import model_body, score_frame, sign_model, verify_model
from omniguard.profiling.federated.spec import parse_spec
from omniguard.profiling.models import predict_proba, scale_to_box

SPEC = parse_spec(spec_text())


@pytest.fixture(scope="module")
def signed():
    signer = SM2KeyPair.generate()
    body = model_body(SPEC, np.linspace(-1, 1, SPEC.dimension + 1), rounds=2, privacy={"epsilon": 2.9})
    return signer, sign_model(body, signer)


def test_a_signed_model_verifies_under_the_pinned_key_only(signed):
    signer, doc = signed
    body = verify_model(doc, "sm2:" + signer.public_key.hex())
    assert body["job_id"] == SPEC.job_id and body["spec_digest"] == SPEC.digest() and len(body["weights"]) == 9
    with pytest.raises(VerificationFailed, match="does not verify under the pinned coordinator key"):
        verify_model(doc, SM2KeyPair.generate().public_key)


@pytest.mark.parametrize("tamper", [
    lambda d: d["body"]["weights"].__setitem__(0, 5.0),
    lambda d: d["body"].__setitem__("job_id", "other"),
    lambda d: d.__setitem__("signature", d["signature"][:-2] + ("00" if d["signature"][-2:] != "00" else "11")),
    lambda d: d.__setitem__("signature", "zz"),
    lambda d: d.pop("body"),
])
def test_any_change_is_caught(signed, tamper):
    signer, doc = signed
    bad = copy.deepcopy(doc)
    tamper(bad)
    with pytest.raises(VerificationFailed):
        verify_model(bad, signer.public_key)


def test_scoring_matches_the_model_and_reports_bad_cells_by_line(signed):
    signer, doc = signed
    body = verify_model(doc, signer.public_key)
    rng = np.random.default_rng(0)
    lower = np.array([f.lower for f in SPEC.features])
    upper = np.array([f.upper for f in SPEC.features])
    X = lower + rng.random((20, SPEC.dimension)) * (upper - lower)
    df = pd.DataFrame(X, columns=[f.column for f in SPEC.features]).astype(str)
    scores = score_frame(body, df)
    assert np.allclose(scores, predict_proba(np.asarray(body["weights"]), scale_to_box(X, lower, upper)))
    df.loc[3, "monetary_90d"] = "n/a"
    with pytest.raises(InputError, match=r"line 5: column 'monetary_90d' is not a number"):
        score_frame(body, df)
