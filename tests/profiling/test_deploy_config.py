"""The Flower connection file written for `federation serve`: Flower refuses a relative CA path
in it, so a relative `--tls-ca` must be written as an absolute path."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from omniguard.profiling.federated.deploy import _connection


def test_relative_ca_path_is_written_absolute(tmp_path):
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        _connection(tmp_path / "home", "127.0.0.1:9092", Path("pki/ca.crt"))
    finally:
        os.chdir(old)
    conf = tomllib.loads((tmp_path / "home" / "config.toml").read_text(encoding="utf-8"))
    conn = conf["superlink"][conf["superlink"]["default"]]
    assert Path(conn["root-certificates"]).is_absolute()
    assert Path(conn["root-certificates"]) == (tmp_path / "pki" / "ca.crt").resolve()


def test_no_ca_means_insecure(tmp_path):
    _connection(tmp_path / "home", "127.0.0.1:9092", None)
    conf = tomllib.loads((tmp_path / "home" / "config.toml").read_text(encoding="utf-8"))
    conn = conf["superlink"][conf["superlink"]["default"]]
    assert conn["insecure"] is True and "root-certificates" not in conn
