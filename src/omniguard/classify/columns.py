"""Classify one column: a sample of its values through Presidio, with the column name as context,
decided on prevalence.

Why prevalence and not "any hit": checksums pass random strings at known rates (Luhn 10%,
MOD 11-2 9%), and 52% of random ``1xxxxxxxxxx`` numbers are valid mobiles, so a single match
says little. A real identifier column matches at about 1.0; a look-alike business number at
0.03-0.55. Floors therefore depend on how strong the validator is and on whether the column name
agrees (see :data:`FLOORS`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from omniguard.classify import shapes
from omniguard.classify.hints import NAME_ONLY, NameHint
from omniguard.classify.recognizers import CHECKSUM, CONTEXT_ONLY, PATTERN, STRENGTH
from omniguard.classify.recognizers.validators import FULLWIDTH_TABLE, resident_id_valid

FREE_TEXT = "FREE_TEXT"
COUNT_SCORE = 0.35  # a value counts for an entity at this score (context-only types need context)
CONTAINS_SCORE = 0.4  # an entity found inside free text counts at this score
COVER = 0.8  # share of the value's length a match must span to describe the whole value
# (floor without a name hint, floor when the name agrees); None = never without a hint
FLOORS: dict[str, tuple[float | None, float]] = {CHECKSUM: (0.8, 0.5), PATTERN: (0.8, 0.3), CONTEXT_ONLY: (None, 0.5)}
PERSON_FLOORS = (0.85, 0.5)
NEGATIVE_FLOOR = 0.95  # a column named like business data must match (almost) perfectly
FREE_TEXT_MIN = 0.02
MAX_VALUE_CHARS = 2000  # a column is judged on the first 2,000 characters of each sampled value
_STRENGTH_FACTOR = {CHECKSUM: 1.0, PATTERN: 0.9, CONTEXT_ONLY: 0.8}
_RANK = {CHECKSUM: 3, PATTERN: 2, CONTEXT_ONLY: 1}


@dataclass
class ColumnResult:
    """The classification of one column. ``evidence`` never holds a value, only shapes and counts."""

    name: str
    entity: str | None
    category: str | None
    grade: str
    confidence: float
    prevalence: float
    evidence: list[str] = field(default_factory=list)
    contains: list[str] = field(default_factory=list)  # entities inside a free-text column
    personal: bool = False
    sampled: int = 0
    non_null: int = 0
    overridden: bool = False
    detected_category: str | None = None  # what the scan found, when a human override differs
    protection: str | None = None  # "encrypted" or "tokenized" when the values are omniguard's protected forms

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "entity": self.entity, "category": self.category, "grade": self.grade,
            "confidence": self.confidence, "prevalence": self.prevalence, "evidence": list(self.evidence),
            "contains": list(self.contains), "personal": self.personal, "sampled": self.sampled,
            "non_null": self.non_null, "overridden": self.overridden, "detected_category": self.detected_category,
            "protection": self.protection,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnResult:
        return cls(**{k: d.get(k, v) for k, v in _DEFAULTS.items()})


_DEFAULTS = {"name": "", "entity": None, "category": None, "grade": "internal", "confidence": 0.0, "prevalence": 0.0,
             "evidence": [], "contains": [], "personal": False, "sampled": 0, "non_null": 0, "overridden": False,
             "detected_category": None, "protection": None}


@dataclass
class Finding:
    """What the sampled values say, before the policy turns an entity into a category."""

    entity: str | None
    confidence: float
    prevalence: float
    evidence: list[str]
    contains: list[str] = field(default_factory=list)
    protection: str | None = None


def sample_values(col: pd.Series, k: int, seed: int) -> tuple[pd.Series, int, list[str]]:
    """Up to ``k`` distinct, stripped, normalised (full-width -> ASCII) non-empty values, and the
    number of non-null values. Deduplicates before any string operation (columns repeat a lot)."""
    notes: list[str] = []
    text, note = shapes.numbers_as_text(col)
    if note:
        notes.append(note)
    text = text.dropna()
    non_null = len(text)
    if not (pd.api.types.is_string_dtype(text) or text.dtype == object):
        text = text.astype(str)
    uniq = text.drop_duplicates().astype("str").str.strip()
    uniq = uniq[uniq != ""].drop_duplicates()
    if len(uniq) > k:
        uniq = uniq.sample(k, random_state=seed)
    if (uniq.str.len() > MAX_VALUE_CHARS).any():
        notes.append(f"values longer than {MAX_VALUE_CHARS} characters analysed in part")
        uniq = uniq.str.slice(0, MAX_VALUE_CHARS)
    return uniq.str.translate(FULLWIDTH_TABLE).reset_index(drop=True), non_null, notes


# Between two values in one analysed document: "|" stops every pattern. Structured columns use the
# column analyzer, which ignores surrounding words; text goes through the general analyzer, where
# the gap must be longer than Presidio's context window (5 tokens) so values never lend each other
# context words.
_GAP = "\n|\n"
_TEXT_GAP = "\n" + " |" * 7 + "\n"


def analyse_values(analyzer: Any, values: pd.Series, context: list[str], language: str = "zh", *,
                   text: bool = False, entities: list[str] | None = None
                   ) -> tuple[Counter[str], Counter[str], dict[str, list[float]]]:
    """Per entity: how many values it describes whole (``covers``), how many it occurs inside
    (``inside``), and the scores of the whole-value matches.

    The values of a column are analysed as one document: one Presidio call per column instead of
    one per value, about 10x less overhead. ``text=True`` (the general analyzer, in-text context)
    separates values by a gap longer than the context window; otherwise pass the column analyzer
    (:func:`~omniguard.classify.engine.get_column_analyzer`), whose only context is the name."""
    import bisect

    gap = _TEXT_GAP if text else _GAP
    vals = [str(v) for v in values]
    starts, pos = [], 0
    for v in vals:
        starts.append(pos)
        pos += len(v) + len(gap)
    whole: list[dict[str, float]] = [{} for _ in vals]
    spans: list[list[tuple[int, int, str]]] = [[] for _ in vals]
    if vals:
        doc = gap.join(vals)
        for r in analyzer.analyze(text=doc, language=language, context=context, entities=entities):
            i = bisect.bisect_right(starts, r.start) - 1
            if i < 0 or r.end > starts[i] + len(vals[i]):
                continue  # spans a separator: not a match inside one value
            if r.end - r.start >= COVER * len(vals[i]) and r.score >= COUNT_SCORE:
                whole[i][r.entity_type] = max(whole[i].get(r.entity_type, 0.0), r.score)
            elif r.score >= CONTAINS_SCORE:  # context-only types reach it only with a context word
                spans[i].append((r.start, r.end, r.entity_type))
    part = [_resolve_overlaps(sp) for sp in spans]
    covers: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    scores: dict[str, list[float]] = defaultdict(list)
    for value, w, p in zip(vals, whole, part, strict=True):
        if not w and len(value) == 17 and value.isdigit() and resident_id_valid(value + "X"):
            w["CN_RESIDENT_ID"] = 1.0  # an ID stored as a number lost its trailing X
            scores["_lost_x"].append(1.0)
        for e, sc in w.items():
            covers[e] += 1
            scores[e].append(sc)
        for e in p - set(w):
            inside[e] += 1
    return covers, inside, scores


# When two entities claim the same digits inside text, the rarer coincidence wins: an ID passes
# Luhn 1 time in 10, a card never has a valid province + birth date + MOD 11-2.
_OVERLAP_PRIORITY = {"CN_RESIDENT_ID": 3, "CN_USCC": 2, "HK_ID": 2, "TW_ID": 2, "BANK_CARD": 1}


def _resolve_overlaps(spans: list[tuple[int, int, str]]) -> set[str]:
    keep = set()
    for s0, e0, ent in spans:
        rank = _OVERLAP_PRIORITY.get(ent, 0)
        beaten = any(s1 < e0 and s0 < e1 and _OVERLAP_PRIORITY.get(other, 0) > rank for s1, e1, other in spans)
        if not beaten:
            keep.add(ent)
    return keep


def _floor(entity: str, hinted: bool, hint: NameHint) -> float | None:
    if entity == "PERSON":
        if hint.not_person:
            return None
        floor: float | None = PERSON_FLOORS[1] if hinted else PERSON_FLOORS[0]
    else:
        without, with_hint = FLOORS[STRENGTH.get(entity, PATTERN)]
        floor = with_hint if hinted else without
    if floor is not None and hint.negative:
        floor = max(floor, NEGATIVE_FLOOR)
    return floor


FIRST_STAGE = 30  # values analysed before checking whether the decision is already settled


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / d
    return max(0.0, c - h), min(1.0, c + h)


def settled(values: pd.Series, covers: Counter[str], inside: Counter[str], hint: NameHint) -> bool:
    """True when more values cannot change the decision: every entity's prevalence interval lies
    wholly above or below its floor, and the column is not text (free text needs the full sample
    to see PI that occurs in a few percent of values)."""
    n = len(values)
    if n == 0 or inside or looks_like_text(values):
        return False
    for entity, hits in covers.items():
        floor = _floor(entity, entity in hint.entities, hint)
        if floor is None:
            continue
        lo, hi = wilson(hits, n)
        if lo < floor <= hi:
            return False
    return True


def decide(values: pd.Series, covers: Counter[str], inside: Counter[str], scores: dict[str, list[float]],
           hint: NameHint) -> Finding:
    """Turn the counts into one entity (or free text, or nothing), with confidence and evidence."""
    n = len(values)
    evidence: list[str] = []
    candidates = []
    for entity, hits in covers.items():
        p = hits / n
        hinted = entity in hint.entities
        floor = _floor(entity, hinted, hint)
        if floor is not None and p >= floor:
            strength = STRENGTH.get(entity, PATTERN)
            candidates.append((p, _RANK[strength], hinted, entity))
    ranked = sorted(covers.items(), key=lambda kv: -kv[1])
    if candidates:
        p, _rank, hinted, entity = max(candidates)
        strength = STRENGTH.get(entity, PATTERN)
        base = p * _STRENGTH_FACTOR[strength]
        conf = 1 - (1 - base) * 0.5 if hinted else base
        evidence.append(f"{p:.2f} of {n} sampled values match {entity}" + (" (checksum valid)" if strength == CHECKSUM
                                                                           and min(scores[entity]) >= 1.0 else ""))
        if hinted:
            evidence.append(f"column name suggests {entity}")
        if scores.get("_lost_x"):
            evidence.append(f"{len(scores['_lost_x'])} IDs lost their trailing X (stored as numbers)")
        runner = [(e, c) for e, c in ranked if e != entity][:1]
        if runner:
            evidence.append(f"next best: {runner[0][0]} at {runner[0][1] / n:.2f}")
        return Finding(entity, round(conf, 3), round(p, 3), evidence)
    for entity, hits in ranked[:2]:
        evidence.append(f"{entity} matches only {hits / n:.2f} of {n} sampled values" + (
            " (name looks like business data)" if hint.negative else ""))
    contained = sorted(e for e, c in inside.items() if c / n >= FREE_TEXT_MIN and e not in ("WECHAT_ID",))
    if contained and looks_like_text(values):
        share = max(inside[e] for e in contained) / n
        evidence.insert(0, f"free text containing {', '.join(contained)} (up to {share:.2f} of sampled values)")
        return Finding(FREE_TEXT, round(min(1.0, 0.5 + share), 3), round(share, 3), evidence, contains=contained)
    return Finding(None, 0.0, 0.0, evidence)


def looks_like_text(values: pd.Series) -> bool:
    lengths = values.str.len()
    return bool(lengths.median() >= 4 and (lengths.std() or 0) >= 2 and values.str.contains(r"[\u4e00-\u9fff\s]").mean()
                >= 0.5)


def decide_protected_forms(values: pd.Series, hint: NameHint) -> Finding | None:
    """omniguard's own SM4 ciphertexts and HMAC-SM3 tokens: personal data stored protected. The
    column name says what is inside; when it does not say one thing, an encrypted column is graded
    conservatively (ENCRYPTED_FIELD) and a token column is a pseudonymous identifier (TOKENIZED_ID)."""
    from omniguard.crypto.ciphertext import looks_like_ciphertext
    from omniguard.crypto.tokens import looks_like_token

    named = sorted(hint.entities - NAME_ONLY)
    for form, test, fallback in (("encrypted", looks_like_ciphertext, "ENCRYPTED_FIELD"),
                                 ("tokenized", looks_like_token, "TOKENIZED_ID")):
        share = float(test(values).mean())
        if share >= 0.8:
            entity = named[0] if len(named) == 1 else fallback
            ev = [f"{share:.2f} of sampled values are omniguard {form} values; still personal data (PIPL Art. 73)"]
            if named:
                ev.append(f"column name suggests {' or '.join(named)}")
            return Finding(entity, round(0.5 + 0.4 * share, 3), round(share, 3), ev, protection=form)
    return None


def decide_special_forms(values: pd.Series, hint: NameHint) -> Finding | None:
    """Protected, masked, hashed or scientific-notation columns: personal data that no recognizer matches."""
    if values.empty:
        return None
    protected = decide_protected_forms(values, hint)
    if protected is not None:
        return protected
    blob = "\n".join(values.tolist())
    if not shapes.SPECIAL_HINT.search(blob):  # one scan of the sample rules all three forms out
        return None
    masked = shapes.masked_share(values)
    if masked >= 0.8:
        entity, share = shapes.masked_entity(values)
        named = sorted(hint.entities - NAME_ONLY)
        if entity is None or share < 0.5:
            entity = named[0] if named else None
        if entity:
            return Finding(entity, round(0.6 + 0.3 * masked, 3), round(masked, 3),
                           [f"{masked:.2f} of sampled values are masked ({entity} shape); masked data is still PI"])
    hashed, length = shapes.hashed_share(values)
    if hashed >= 0.8:
        return Finding("HASHED_IDENTIFIER", round(0.5 + 0.4 * hashed, 3), round(hashed, 3),
                       [f"{hashed:.2f} of sampled values are {length}-hex-digit digests; a keyless hash of an "
                        "identifier is still personal data (PIPL Art. 73)"])
    sci, digits = shapes.scientific_share(values)
    if sci >= 0.8:
        named = sorted(hint.entities - NAME_ONLY)
        note = f"{sci:.2f} of sampled values are numbers in scientific notation (~{digits} digits, precision lost)"
        if named:
            return Finding(named[0], 0.5, round(sci, 3), [note, f"column name suggests {named[0]}"])
        return Finding(None, 0.0, 0.0, [note])
    return None


def decide_by_name(values: pd.Series, hint: NameHint) -> Finding | None:
    """Entities no recognizer sees (credentials, birth dates, gender, health ...): the name
    decides, a cheap value check confirms where one exists."""
    for entity in sorted(hint.name_only):
        if values.empty:
            return Finding(entity, 0.3, 0.0, [f"column name suggests {entity}; no values to confirm"])
        if entity == "DATE_OF_BIRTH":
            dates = shapes.parsed_dates(values)
            ok = float(dates.notna().mean())
            if ok < 0.8:
                continue
            minors = shapes.share_under_14(dates)
            if minors > 0:
                return Finding("MINOR_AGE", round(0.5 + 0.4 * ok, 3), round(ok, 3),
                               [f"column name suggests a birth date; {ok:.2f} parse as dates",
                                f"{minors:.2f} of sampled birth dates are of children under 14 (PIPL Art. 28, 31)"])
            return Finding(entity, round(0.5 + 0.4 * ok, 3), round(ok, 3),
                           [f"column name suggests a birth date; {ok:.2f} parse as dates"])
        check = {"GENDER": shapes.share_gender, "AGE": shapes.share_small_ints,
                 "PASSWORD": shapes.looks_secret, "ONE_TIME_CODE": shapes.looks_secret,
                 "API_KEY": shapes.looks_secret,
                 "CARD_SECURITY_CODE": lambda s: float(s.str.fullmatch(r"\d{3,4}").mean())}.get(entity)
        share = check(values) if check else None
        if share is not None and share < 0.6:
            continue
        ev = [f"column name suggests {entity}"] + ([f"{share:.2f} of sampled values have the expected form"]
                                                  if share is not None else ["no value check for this kind"])
        return Finding(entity, round(0.5 + 0.4 * (share if share is not None else 0.25), 3),
                       round(share if share is not None else 0.0, 3), ev)
    return None


def shapes_evidence(values: pd.Series, limit: int = 3) -> str | None:
    if values.empty:
        return None
    common = values.map(shapes.shape_of).value_counts().index[:limit]
    return "shapes: " + ", ".join(common)
