"""Property tests of the assessment's validators: references and answers files."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniguard.compliance.pia import parse_ref
from omniguard.compliance.pia_questions import BY_KEY, check_answers
from omniguard.errors import InputError

subjects = st.from_regex(r"[a-z0-9][a-z0-9_.\-]{0,63}", fullmatch=True)


@given(st.sampled_from(["purpose", "job"]), subjects, st.none() | st.integers(1, 999_999))
def test_reference_round_trip(kind, subject, version):
    ref = f"{kind}:{subject}" + (f"@v{version}" if version else "")
    assert parse_ref(ref) == (kind, subject, version)


@given(st.text(max_size=80))
def test_reference_parser_accepts_only_the_documented_form(text):
    try:
        kind, subject, version = parse_ref(text)
    except InputError:
        return
    assert text.strip() == f"{kind}:{subject}" + (f"@v{version}" if version else "")


answer_text = st.text(min_size=1, max_size=200).filter(lambda s: s.strip())


@given(st.dictionaries(st.sampled_from(sorted(BY_KEY)), answer_text | st.none() | st.just("  ")))
def test_answers_keep_every_non_blank_answer_stripped(doc):
    out = check_answers(doc)
    assert out == {k: v.strip() for k, v in doc.items() if v is not None and v.strip()}


@given(st.text(min_size=1, max_size=30).filter(lambda k: k not in BY_KEY), answer_text)
def test_unknown_keys_are_refused(key, text):
    with pytest.raises(InputError, match="unknown question key"):
        check_answers({key: text})
