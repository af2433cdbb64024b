"""Reading the files users name: one line naming the file, whatever is wrong."""

from __future__ import annotations

import pytest

from omniguard.errors import InputError
from omniguard.fileio import atomic_open, read_input, read_utf8


def test_read_utf8_accepts_a_bom_and_names_the_file_on_each_failure(tmp_path):
    (tmp_path / "a.yaml").write_bytes("\ufeff目的: 分析\n".encode())
    assert read_utf8(tmp_path / "a.yaml", "an answers file") == "目的: 分析\n"
    (tmp_path / "gbk.yaml").write_bytes("目的".encode("gbk"))
    with pytest.raises(InputError, match=r"^gbk\.yaml: an answers file is UTF-8 text$"):
        read_utf8(tmp_path / "gbk.yaml", "an answers file")
    with pytest.raises(InputError, match=r"^none\.toml: file not found$"):
        read_input(tmp_path / "none.toml")
    with pytest.raises(InputError, match=r"is a folder, not a file"):
        read_input(tmp_path)


def test_atomic_open_leaves_the_old_file_when_the_write_fails(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]
