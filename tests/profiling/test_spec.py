"""Job spec parsing and validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from profiling_helpers import feature_block, spec_text

from omniguard.errors import InputError
from omniguard.profiling.federated.spec import load_spec, parse_spec


def test_a_valid_spec_parses_with_defaults():
    spec = parse_spec(spec_text(rounds=4))
    assert spec.task == "propensity" and spec.rounds == 4 and spec.partners == ("brand", "retailer")
    assert spec.privacy.enabled and spec.privacy.epsilon == 3.0 and spec.privacy.delta == 1e-5
    assert spec.label.column == "bought_new" and spec.dimension == 8
    assert spec.min_partners == 2 and spec.share_metrics


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace('task = "propensity"', 'task = "clustering"'), r"\[job\] task: must be one of"),
    (lambda t: t.replace('id = "job-1"', 'id = "Job 1"'), r"\[job\] id"),
    (lambda t: t.replace("rounds = 2", "rounds = 0"), r"\[job\] rounds: must be in"),
    (lambda t: t.replace("rounds = 2", 'rounds = "two"'), r"\[job\] rounds: expected int"),
    (lambda t: t.replace('id = "retailer"', 'id = "brand"'), "partner ids must be distinct"),
    (lambda t: t.replace("upper = 365.0", "upper = -1"), "upper must be greater than lower"),
    (lambda t: t.replace("[label]", "[labels]"), "unknown key 'labels'"),
    (lambda t: t.replace("epsilon = 3.0", "epsilon = 3.0\nnoise_multiplier = 1.0"), "not both"),
    (lambda t: t.replace("epsilon = 3.0", "epsilon = -3.0"), r"epsilon: must be > 0"),
    (lambda t: t.replace("share_metrics = true", "share_metric = true"), "unknown key 'share_metric'"),
    (lambda t: t.replace('column = "recency_days"', 'column = "member_id"'), "subject id must not be a feature"),
    (lambda t: t + "\n[[[", "not valid TOML"),
    (lambda t: t.replace("share_metrics = true", "share_metrics = true\nsecure = true"), r"SecAgg\+\) is not supported"),
])
def test_invalid_specs_name_the_key(change, message):
    with pytest.raises(InputError, match=message) as e:
        parse_spec(change(spec_text()), "job.toml")
    assert str(e.value).startswith("job.toml: ") and "\n" not in str(e.value)


def test_segments_take_no_label_and_no_dp_needs_no_epsilon():
    spec = parse_spec(spec_text(task="segments", privacy='mode = "none"'))
    assert spec.label is None and not spec.privacy.enabled
    with pytest.raises(InputError, match="only a propensity job has a label"):
        parse_spec(spec_text(task="segments") + '\n[label]\ncolumn = "x"\ncategory = "transaction"\nlower = 0\nupper = 1\n')
    with pytest.raises(InputError, match="takes no epsilon"):
        parse_spec(spec_text(privacy='mode = "none"\nepsilon = 1.0'))


def test_load_spec_errors_are_one_line(tmp_path):
    with pytest.raises(InputError, match=r"missing\.toml: file not found"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "gbk.toml"
    bad.write_bytes(spec_text().encode() + "# 中文".encode("gbk"))
    with pytest.raises(InputError, match="UTF-8"):
        load_spec(bad)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
                          st.floats(-1e6, 1e6, allow_nan=False), st.floats(0.001, 1e6)),
                min_size=1, max_size=6, unique_by=lambda t: t[0]),
       st.booleans())
def test_digest_depends_on_content_not_layout(features, comments):
    block = feature_block({c: (lo, lo + span) for c, lo, span in features if c not in ("member_id", "bought_new")} or
                          {"x": (0.0, 1.0)})
    text = spec_text(features=block)
    spaced = text.replace(" = ", "   =   ").replace("\n[", "\n# a comment\n\n[") if comments else text
    a, b = parse_spec(text), parse_spec(spaced)
    assert a == b and a.digest() == b.digest()
    assert parse_spec(text.replace("rounds = 2", "rounds = 3")).digest() != a.digest()
