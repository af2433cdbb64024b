"""Reading and writing the tables users hand us (CSV, JSONL, Parquet), strictly.

Shared by every command that takes a file: encodings are detected (UTF-8, UTF-8 with BOM, GBK /
GB18030), ragged rows and NUL bytes are refused with the line number, and errors never quote a
cell (a cell may be personal data). Writes are atomic.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from omniguard.errors import InputError
from omniguard.fileio import atomic_path, read_input

_PROBE = 1 << 20


def detect_encoding(data: bytes) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030' (a superset of GBK and GB2312); InputError otherwise."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("UTF-16 text is not supported; save the file as UTF-8")
    for enc in ("utf-8", "gb18030"):
        try:
            data.decode(enc)
            return enc
        except UnicodeDecodeError as e:
            if len(data) >= _PROBE and e.start >= len(data) - 4:  # a character cut by the probe
                try:
                    data[: e.start].decode(enc)
                    return enc
                except UnicodeDecodeError:
                    pass
    raise InputError("not UTF-8 or GBK text")


def _line_of_bad_row(path: Path, encoding: str, width: int) -> tuple[int, int]:
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        for row in reader:
            if len(row) != width and row:
                return reader.line_num, len(row)
    return 0, 0


def read_csv(path: str | os.PathLike[str], *, encoding: str | None = None) -> pd.DataFrame:
    """Every column as text (identifiers must keep leading zeros and trailing X)."""
    path = Path(path)
    shown = path.name
    head = read_input(path, _PROBE)
    if not head.strip():
        raise InputError(f"{shown}: empty file")
    if b"\x00" in head:
        raise InputError(f"{shown}: contains NUL bytes; not a text CSV")
    try:
        enc = encoding or detect_encoding(head)
    except InputError as e:
        raise InputError(f"{shown}: {e.message}") from None
    first = head.decode(enc, errors="replace").splitlines()[0]
    header = next(csv.reader([first]))
    if len(set(header)) != len(header):
        raise InputError(f"{shown}: line 1: duplicate column names")
    if any(not h.strip() for h in header):
        raise InputError(f"{shown}: line 1: empty column name")
    pa_enc = "utf8" if enc in ("utf-8", "utf-8-sig") else enc
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=pa_enc, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as e:
        if "columns" in str(e):
            line, got = _line_of_bad_row(path, enc, len(header))
            raise InputError(f"{shown}: line {line}: expected {len(header)} fields, found {got}") from None
        if "decode" in str(e).lower() or "utf" in str(e).lower():
            raise InputError(f"{shown}: not valid {enc} text throughout") from None
        raise InputError(f"{shown}: not a readable CSV file") from None
    if enc == "utf-8-sig" and table.column_names and table.column_names[0].startswith("\ufeff"):
        table = table.rename_columns([table.column_names[0][1:], *table.column_names[1:]])
    return table.to_pandas()


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """CSV (.csv, .txt), Parquet (.parquet) or JSON lines (.jsonl), by suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            return pq.read_table(path).to_pandas()
        except FileNotFoundError:
            raise InputError(f"{path.name}: file not found") from None
        except (pa.ArrowInvalid, OSError):
            raise InputError(f"{path.name}: not a readable Parquet file") from None
    if suffix == ".jsonl":
        try:
            return pd.read_json(path, lines=True, dtype=False)
        except FileNotFoundError:
            raise InputError(f"{path.name}: file not found") from None
        except ValueError:
            raise InputError(f"{path.name}: not valid JSON lines") from None
    return read_csv(path)


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Atomic write; format by suffix (.parquet, .jsonl, otherwise UTF-8 CSV)."""
    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif suffix == ".jsonl":
            df.to_json(tmp, orient="records", lines=True, force_ascii=False)
        else:
            with open(tmp, "wb") as f:
                _write_csv(df, f)


def _write_csv(df: pd.DataFrame, f: io.BufferedWriter) -> None:
    """The same bytes as pandas' ``to_csv(index=False)``, built by Arrow when every column is text
    (the usual output of the guard and of encryption: about 3x faster on wide tables)."""
    # One column stays with pandas: the csv module quotes a row's lone empty field ('""').
    body = _arrow_csv_body(df) if len(df.columns) > 1 else None
    if body is None:
        f.write(df.to_csv(index=False).encode("utf-8"))
        return
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([str(c) for c in df.columns])
    f.write(header.getvalue().encode("utf-8"))
    f.write(body)


def _arrow_csv_body(df: pd.DataFrame) -> memoryview | None:
    """Rows as CSV with minimal quoting, or None when a column is not text (pandas then formats
    numbers, booleans and dates its own way)."""
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowException, ValueError):  # mixed Python objects, duplicate column names
        return None
    quote, comma, newline, empty = (pa.scalar(t, pa.large_string()) for t in ('"', ",", "\n", ""))
    cells = []
    for col in table.columns:
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_null(col.type)):
            return None
        arr = pc.fill_null(col.combine_chunks().cast(pa.large_string()), "")
        quoted = pc.binary_join_element_wise(quote, pc.replace_substring(arr, '"', '""'), quote, empty)
        cells.append(pc.if_else(pc.match_substring_regex(arr, '[",\n]'), quoted, arr))
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, comma), empty, newline)
    if len(lines) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
