"""The federated job spec: one TOML file that every party reads and approves.

It says who takes part, which task (``segments`` = k-means, ``propensity`` = logistic regression),
which features (each with its data category and public bounds), for which purpose, how many
rounds, and the privacy terms (unit, target epsilon or noise, delta, clipping). A partner checks it
against its own policy before any of its data is touched (:mod:`.partner`). The format is
documented in ``docs/formats/job-spec.md``. Parsing is strict: an unknown key is an error, and every
error names the file and the key.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from omniguard.crypto.sm3 import sm3
from omniguard.errors import InputError
from omniguard.fileio import read_utf8

FORMAT = 1
TASKS = ("segments", "propensity")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")


@dataclass(frozen=True)
class Feature:
    column: str
    category: str
    lower: float
    upper: float


@dataclass(frozen=True)
class Privacy:
    mode: str = "record"  # "record": record-level DP at each partner; "none": no DP (partners must opt in)
    unit: str = "customer"
    epsilon: float | None = 3.0  # target per customer; each partner calibrates its noise to meet it
    noise_multiplier: float | None = None  # alternative to epsilon: fixed noise, epsilon follows
    delta: float = 1e-5
    clip: float | None = None  # per-example gradient (propensity) or per-record (segments) L2 bound

    @property
    def enabled(self) -> bool:
        return self.mode == "record"


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    task: str
    purpose: str
    subject_column: str
    rounds: int
    partners: tuple[str, ...]
    features: tuple[Feature, ...]
    privacy: Privacy
    label: Feature | None = None
    coordinator: str = ""
    coordinator_key: str = ""  # "sm2:04..." the key that signs the model; partners pin it
    description: str = ""
    # segments
    k: int = 5
    init_spread: float = 0.2
    init_seed: int = 0
    # propensity
    local_epochs: float = 1.0
    batch_size: int = 64
    learning_rate: float = 0.5
    l2: float = 1e-4
    # aggregation
    min_partners: int = 2
    max_rows_per_partner: int = 10_000_000
    share_metrics: bool = False  # partners send local utility metrics of the final model (not DP)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def dimension(self) -> int:
        return len(self.features)

    @property
    def clip(self) -> float:
        """The privacy clip, or the largest norm a record can have anyway in the unit box."""
        if self.privacy.clip is not None:
            return self.privacy.clip
        return math.sqrt(self.dimension + (1 if self.task == "propensity" else 0))

    def partner_index(self, partner: str) -> int:
        try:
            return self.partners.index(partner)
        except ValueError:
            raise InputError(f"partner {partner!r} is not in job {self.job_id}") from None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("extra")
        return out

    def digest(self) -> str:
        """SM3 of the canonical spec: what each party approves and every message names."""
        body = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return sm3(body.encode()).hex()


_TOP = {"format", "job", "coordinator", "partners", "features", "label", "segments", "propensity", "privacy",
        "aggregation"}
_SECTIONS = {
    "job": {"id", "task", "purpose", "subject_column", "rounds", "description"},
    "coordinator": {"name", "public_key"},
    "segments": {"k", "init_spread", "init_seed"},
    "propensity": {"local_epochs", "batch_size", "learning_rate", "l2"},
    "privacy": {"mode", "unit", "epsilon", "noise_multiplier", "delta", "clip"},
    "aggregation": {"secure", "min_partners", "max_rows_per_partner", "share_metrics"},
}


class _Reader:
    def __init__(self, shown: str):
        self.shown = shown

    def fail(self, where: str, what: str) -> InputError:
        return InputError(f"{self.shown}: {where}: {what}")

    def table(self, doc: dict, key: str, required: bool = True) -> dict:
        value = doc.get(key)
        if value is None:
            if required:
                raise self.fail(f"[{key}]", "missing section")
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"[{key}]", "must be a table")
        unknown = set(value) - _SECTIONS.get(key, set(value))
        if unknown:
            raise self.fail(f"[{key}]", f"unknown key {sorted(unknown)[0]!r}")
        return value

    def get(self, t: dict, section: str, key: str, kind: type | tuple, default: Any = ..., *,
            low: float | None = None, high: float | None = None, positive: bool = False) -> Any:
        if key not in t:
            if default is ...:
                raise self.fail(f"[{section}] {key}", "missing")
            return default
        v = t[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(v, bool) and bool not in kinds) or not isinstance(v, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(f"[{section}] {key}", f"expected {names}")
        if isinstance(v, int | float) and not isinstance(v, bool):
            if not math.isfinite(v):
                raise self.fail(f"[{section}] {key}", "must be finite")
            if positive and v <= 0:
                raise self.fail(f"[{section}] {key}", "must be > 0")
            if (low is not None and v < low) or (high is not None and v > high):
                raise self.fail(f"[{section}] {key}", f"must be in [{low}, {high}]")
        return v

    def feature(self, item: Any, where: str) -> Feature:
        if not isinstance(item, dict):
            raise self.fail(where, "must be a table with column, category, lower, upper")
        unknown = set(item) - {"column", "category", "lower", "upper"}
        if unknown:
            raise self.fail(where, f"unknown key {sorted(unknown)[0]!r}")
        col = self.get(item, where, "column", str)
        cat = self.get(item, where, "category", str)
        lo = float(self.get(item, where, "lower", (int, float)))
        hi = float(self.get(item, where, "upper", (int, float)))
        if not col.strip() or not cat.strip():
            raise self.fail(where, "column and category must not be empty")
        if not hi > lo:
            raise self.fail(where, "upper must be greater than lower")
        return Feature(col, cat, lo, hi)


def parse_spec(text: str, shown: str = "job spec") -> JobSpec:
    """Parse and validate a spec; every problem is one line naming the key."""
    r = _Reader(shown)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{shown}: not valid TOML ({e})") from None
    unknown = set(doc) - _TOP
    if unknown:
        raise r.fail("top level", f"unknown key {sorted(unknown)[0]!r}")
    if doc.get("format", FORMAT) != FORMAT:
        raise r.fail("format", f"this omniguard reads job spec format {FORMAT}")
    job = r.table(doc, "job")
    job_id = r.get(job, "job", "id", str)
    if not _ID.match(job_id):
        raise r.fail("[job] id", "use 1-64 lowercase letters, digits, '.', '_' or '-'")
    task = r.get(job, "job", "task", str)
    if task not in TASKS:
        raise r.fail("[job] task", f"must be one of {', '.join(TASKS)}")
    partners_doc = doc.get("partners")
    if not isinstance(partners_doc, list) or not partners_doc:
        raise r.fail("[[partners]]", "list at least one partner")
    partners = []
    for i, p in enumerate(partners_doc):
        if not isinstance(p, dict) or set(p) - {"id"} or not isinstance(p.get("id"), str) or not _ID.match(p["id"]):
            raise r.fail(f"[[partners]] #{i + 1}", "needs an id of lowercase letters, digits, '.', '_' or '-'")
        partners.append(p["id"])
    if len(set(partners)) != len(partners):
        raise r.fail("[[partners]]", "partner ids must be distinct")
    feats_doc = doc.get("features")
    if not isinstance(feats_doc, list) or not feats_doc:
        raise r.fail("[[features]]", "list at least one feature")
    features = tuple(r.feature(f, f"[[features]] #{i + 1}") for i, f in enumerate(feats_doc))
    subject = r.get(job, "job", "subject_column", str)
    columns = [f.column for f in features]
    if len(set(columns)) != len(columns):
        raise r.fail("[[features]]", "a column is listed twice")
    if subject in columns:
        raise r.fail("[job] subject_column", "the subject id must not be a feature")
    label = None
    if task == "propensity":
        label_doc = doc.get("label")
        if label_doc is None:
            raise r.fail("[label]", "a propensity job needs a label (column, category, lower = 0, upper = 1)")
        label = r.feature(label_doc, "[label]")
        if label.column in columns or label.column == subject:
            raise r.fail("[label] column", "the label must not also be a feature or the subject id")
    elif "label" in doc:
        raise r.fail("[label]", "only a propensity job has a label")
    coord = r.table(doc, "coordinator", required=False)
    seg = r.table(doc, "segments", required=False)
    prop = r.table(doc, "propensity", required=False)
    priv = r.table(doc, "privacy", required=False)
    agg = r.table(doc, "aggregation", required=False)
    privacy = _privacy(r, priv)
    if r.get(agg, "aggregation", "secure", bool, False):
        raise r.fail("[aggregation] secure", "secure aggregation (SecAgg+) is not supported yet; see docs/federation.md")
    key = r.get(coord, "coordinator", "public_key", str, "")
    if key and not re.fullmatch(r"sm2:04[0-9a-f]{128}", key):
        raise r.fail("[coordinator] public_key", "expected sm2:04 followed by 128 lowercase hex digits")
    return JobSpec(
        job_id=job_id, task=task, purpose=r.get(job, "job", "purpose", str),
        subject_column=subject, rounds=r.get(job, "job", "rounds", int, 3, low=1, high=1000),
        partners=tuple(partners), features=features, privacy=privacy, label=label,
        coordinator=r.get(coord, "coordinator", "name", str, ""), coordinator_key=key,
        description=r.get(job, "job", "description", str, ""),
        k=r.get(seg, "segments", "k", int, 5, low=2, high=100),
        init_spread=float(r.get(seg, "segments", "init_spread", (int, float), 0.2, low=0.0, high=1.0)),
        init_seed=r.get(seg, "segments", "init_seed", int, 0, low=0),
        local_epochs=float(r.get(prop, "propensity", "local_epochs", (int, float), 1.0, positive=True, high=100)),
        batch_size=r.get(prop, "propensity", "batch_size", int, 64, low=1),
        learning_rate=float(r.get(prop, "propensity", "learning_rate", (int, float), 0.5, positive=True)),
        l2=float(r.get(prop, "propensity", "l2", (int, float), 1e-4, low=0.0)),
        min_partners=r.get(agg, "aggregation", "min_partners", int, len(partners), low=1, high=len(partners)),
        max_rows_per_partner=r.get(agg, "aggregation", "max_rows_per_partner", int, 10_000_000, low=1),
        share_metrics=r.get(agg, "aggregation", "share_metrics", bool, False),
    )


def _privacy(r: _Reader, priv: dict) -> Privacy:
    mode = r.get(priv, "privacy", "mode", str, "record")
    if mode not in ("record", "none"):
        raise r.fail("[privacy] mode", "must be 'record' (record-level DP) or 'none'")
    unit = r.get(priv, "privacy", "unit", str, "customer")
    if unit != "customer":
        raise r.fail("[privacy] unit", "only 'customer' is supported (partner-level DP means little with few partners)")
    eps = priv.get("epsilon")
    z = priv.get("noise_multiplier")
    if mode == "record":
        if eps is not None and z is not None:
            raise r.fail("[privacy]", "give epsilon (a target) or noise_multiplier, not both")
        if eps is None and z is None:
            eps = 3.0
    elif eps is not None or z is not None:
        raise r.fail("[privacy]", "mode = 'none' takes no epsilon or noise_multiplier")
    if eps is not None:
        eps = float(r.get(priv, "privacy", "epsilon", (int, float), positive=True, high=100))
    if z is not None:
        z = float(r.get(priv, "privacy", "noise_multiplier", (int, float), positive=True))
    delta = float(r.get(priv, "privacy", "delta", (int, float), 1e-5, positive=True, high=0.01))
    clip = priv.get("clip")
    if clip is not None:
        clip = float(r.get(priv, "privacy", "clip", (int, float), positive=True))
    return Privacy(mode=mode, unit=unit, epsilon=eps, noise_multiplier=z, delta=delta, clip=clip)


def load_spec(path: str | Path) -> JobSpec:
    path = Path(path)
    return parse_spec(read_utf8(path, "a job spec"), path.name)
