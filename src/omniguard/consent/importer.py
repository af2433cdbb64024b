"""Bulk import of consent events from CSV or JSON lines, all or nothing per file.

A file is read whole (UTF-8, UTF-8 with BOM or GBK/GB18030; Chinese column names through the
built-in aliases or a mapping), every line is checked (:mod:`omniguard.consent.validate`), and
only a file without a single bad line is written, in one transaction with its audit event. A bad
file gives a report of every rejected line and why, and leaves the store untouched.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omniguard.consent.registry import EventIdsExist
from omniguard.consent.validate import STORED, already_stored, validate
from omniguard.errors import InputError
from omniguard.fileio import read_input

CANONICAL = ("event_id", "subject_id", "purpose", "action", "ts", "notice", "notice_id", "notice_version",
             "separate", "channel", "guardian_ref", "birth_date", "age", "evidence", "expires_at")
REQUIRED = ("subject_id", "purpose", "action", "ts")
ALIASES: dict[str, str] = {
    **{k: "subject_id" for k in ("subject", "member_id", "user_id", "customer_id", "用户ID", "用户id", "用户编号",
                                 "会员ID", "会员id", "会员号", "会员编号", "客户编号", "个人ID")},
    **{k: "purpose" for k in ("目的", "处理目的", "用途")},
    **{k: "action" for k in ("event", "操作", "动作", "事件类型")},
    **{k: "ts" for k in ("time", "timestamp", "时间", "发生时间", "同意时间", "事件时间")},
    **{k: "notice" for k in ("notice_ref", "告知书", "告知版本", "隐私政策版本", "政策版本")},
    **{k: "separate" for k in ("单独同意", "是否单独同意")},
    **{k: "channel" for k in ("渠道", "来源渠道")},
    **{k: "guardian_ref" for k in ("guardian", "监护人", "监护人ID", "监护人编号")},
    **{k: "birth_date" for k in ("出生日期", "生日")},
    **{k: "age" for k in ("年龄",)},
    **{k: "evidence" for k in ("证据", "凭证")},
    **{k: "expires_at" for k in ("expires", "到期时间", "失效时间")},
    **{k: "event_id" for k in ("事件ID", "事件id", "事件编号", "流水号")},
}
MAX_SHOWN = 20


@dataclass
class ImportReport:
    file: str
    encoding: str = ""
    rows: int = 0
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    by_action: dict[str, int] = field(default_factory=dict)
    subjects: int = 0
    batch: int | None = None
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.rejected

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        shown = self.rejected if limit is None else self.rejected[:limit]
        return {"file": self.file, "ok": self.ok, "encoding": self.encoding, "rows": self.rows,
                "imported": self.imported, "rejected_lines": len({ln for ln, _ in self.rejected}),
                "rejected": [{"line": ln, "problem": msg} for ln, msg in shown],
                "ignored_columns": self.ignored_columns, "by_action": self.by_action, "subjects": self.subjects,
                "batch": self.batch, "dry_run": self.dry_run, "seconds": round(self.seconds, 2)}

    def lines(self) -> list[str]:
        return [f"line {ln}: {msg}" for ln, msg in self.rejected]


class ImportRejected(InputError):
    """The file had bad lines; nothing was imported. ``report`` lists every one."""

    def __init__(self, report: ImportReport):
        self.report = report
        n = len({ln for ln, _ in report.rejected})
        first_line, first = report.rejected[0]
        super().__init__(f"{report.file}: {n} line{'s' if n != 1 else ''} rejected, nothing imported "
                         f"(first: line {first_line}: {first})",
                         hint="fix the lines listed (or see --report FILE) and import the whole file again")


def sniff_encoding(data: bytes) -> tuple[str, tuple[int, str] | None]:
    """(encoding, problem): UTF-8 (with or without BOM) or GB18030 (a superset of GBK). A file
    that is UTF-8 up to some bad bytes is reported at that line, not reread as GBK mojibake."""
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    try:
        body.decode("utf-8")
        return ("utf-8-sig" if bom else "utf-8"), None
    except UnicodeDecodeError as e:
        prefix = body[: e.start]
        if bom or any(b >= 0x80 for b in prefix):
            return "utf-8", (prefix.count(b"\n") + 1, "not valid UTF-8 text (the lines before it are UTF-8)")
    try:
        data.decode("gb18030")
        return "gb18030", None
    except UnicodeDecodeError as e:
        return "gb18030", (data[: e.start].count(b"\n") + 1, "not valid UTF-8 or GBK text")


def _read(path: Path, encoding: str | None) -> tuple[pd.DataFrame, str, int]:
    """(frame of text, encoding, line number of the first record)."""
    from omniguard.tabular import read_csv

    data = read_input(path)
    if not data.strip():
        raise _rejected(path, "", 1, "empty file")
    enc, problem = (encoding, None) if encoding else sniff_encoding(data)
    if problem:
        raise _rejected(path, enc, *problem)
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return _read_jsonl(path, data.decode(enc or "utf-8")), enc, 1
    try:
        frame = read_csv(path, encoding=enc)
    except InputError as e:
        msg = e.message.removeprefix(f"{path.name}: ")
        line = int(msg.split(":")[0].removeprefix("line ")) if msg.startswith("line ") else 1
        raise _rejected(path, enc, line, msg.split(": ", 1)[1] if msg.startswith("line ") else msg) from None
    return frame, enc, 2


def _read_jsonl(path: Path, text: str) -> pd.DataFrame:
    try:
        frame = pd.read_json(io.StringIO(text), lines=True, dtype=False)
    except ValueError:
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                raise _rejected(path, "utf-8", i, "not valid JSON") from None
            if not isinstance(obj, dict):
                raise _rejected(path, "utf-8", i, "expected a JSON object") from None
        raise _rejected(path, "utf-8", 1, "not valid JSON lines") from None
    return frame


def _rejected(path: Path, enc: str, line: int, msg: str) -> ImportRejected:
    return ImportRejected(ImportReport(file=path.name, encoding=enc or "", rejected=[(line, msg)]))


def apply_mapping(frame: pd.DataFrame, mapping: Mapping[str, str] | None) -> tuple[pd.DataFrame, list[str]]:
    """Rename columns to canonical names (user mapping first, then built-in aliases); return the
    frame and the columns ignored."""
    mapping = dict(mapping or {})
    for dst in mapping.values():
        if dst not in CANONICAL:
            raise InputError(f"column mapping: {dst!r} is not a consent event field (fields: {', '.join(CANONICAL)})")
    renames: dict[str, str] = {}
    for col in frame.columns:
        name = str(col).strip()
        target = mapping.get(name) or (name if name in CANONICAL else ALIASES.get(name) or ALIASES.get(name.lower()))
        if target:
            if target in renames.values():
                raise InputError(f"two columns map to {target!r}; keep one or fix the mapping")
            renames[col] = target
    ignored = [str(c) for c in frame.columns if c not in renames]
    out = frame[list(renames)].rename(columns=renames)
    missing = [c for c in REQUIRED if c not in out]
    if missing:
        raise InputError(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
                         "(name them so, use a known Chinese name, or map them with --map SOURCE=FIELD)")
    return out, ignored


def import_events(ws: Any, path: str | os.PathLike[str], *, mapping: Mapping[str, str] | None = None,
                  default_channel: str = "import", readmit_erased: bool = False, dry_run: bool = False,
                  encoding: str | None = None, actor: str | None = None,
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import one file. Raises :class:`ImportRejected` (nothing written) when any line is bad."""
    t0 = time.perf_counter()
    path = Path(path)
    try:
        frame, enc, first_line = _read(path, encoding)
    except ImportRejected as e:
        _audit_rejected(ws, e.report, actor)
        raise
    report = ImportReport(file=path.name, encoding=enc, rows=len(frame), dry_run=dry_run)
    try:
        frame, report.ignored_columns = apply_mapping(frame, mapping)
    except InputError as e:
        report.rejected = [(1, e.message)]
        _audit_rejected(ws, report, actor)
        raise ImportRejected(report) from None
    if progress:
        progress(1)
    v = validate(ws, frame, default_channel=default_channel, readmit_erased=readmit_erased,
                 first_line=first_line, check_stored=dry_run)
    if progress:
        progress(2)
    report.rejected = [(pos + first_line, msg) for pos, msg in v.problems]
    report.by_action = {str(k): int(n) for k, n in v.events["action"].value_counts().sort_index().items()}
    ids = v.events["subject_id"]
    report.subjects = int(ids.nunique())
    if report.rejected:
        report.seconds = time.perf_counter() - t0
        _audit_rejected(ws, report, actor)
        raise ImportRejected(report)
    if dry_run:
        ws.audit.record("consent.import", actor=actor, subjects=ids, rows=len(frame), decision="info",
                        details={"file": path.name, "dry_run": True, "by_action": report.by_action})
    else:
        try:
            with ws.store.write() as conn:
                written = ws.consent.append(conn, v, source=f"import:{path.name}"[:200], actor=actor)
                ws.audit.record("consent.import", conn=conn, actor=actor, subjects=ids, rows=written.events,
                                details={"file": path.name, "batch": written.batch, "encoding": enc,
                                         "by_action": report.by_action})
        except EventIdsExist:
            stored = np.flatnonzero(already_stored(ws, v.events["event_id"]))
            report.rejected = [(int(pos) + first_line, STORED) for pos in stored] or [(1, STORED)]
            report.seconds = time.perf_counter() - t0
            _audit_rejected(ws, report, actor)
            raise ImportRejected(report) from None
        report.imported, report.batch = written.events, written.batch
    if progress:
        progress(3)
    report.seconds = time.perf_counter() - t0
    return report


def _audit_rejected(ws: Any, report: ImportReport, actor: str | None) -> None:
    ws.audit.record("consent.import", actor=actor, rows=report.rows, decision="deny",
                    reason="file rejected; nothing imported",
                    details={"file": report.file, "rejected_lines": len({ln for ln, _ in report.rejected})})
