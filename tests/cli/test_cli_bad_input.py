"""Bad input through the CLI: one line on stderr, exit 2 (1 for a failed check), nothing changed."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def ws_dir(cli, tmp_path):
    r = cli(f"init {tmp_path / 'ws'} --actor cli@test --json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["store"] == "sqlite"
    return tmp_path / "ws"


def _head(ws_dir):
    from omniguard.workspace import Workspace

    with Workspace.open(ws_dir) as ws:
        return ws.audit.head()


def _one_line_error(r, code=2):
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error: ")
    assert "Traceback" not in r.stderr
    return lines[0]


@pytest.mark.parametrize(
    "file,text,expected",
    [
        ("purposes.yaml", None, "purposes.yaml: purposes[3].retention_days: expected a positive integer"),
        ("purposes.yaml", "purposes: [\n  {id: x,", "purposes.yaml: line"),
        ("roles.yaml", "version: '1'\ndefault_role: nobody\nroles:\n  - {id: a, purposes: [nope]}\n",
         "roles.yaml: roles[0].purposes[0]: unknown purpose 'nope'"),
        ("taxonomy.yaml", "version: '1'\ncategories:\n  - {id: c, name: C, name_zh: C, grade: secret}\n",
         "taxonomy.yaml: categories[0].grade: expected one of"),
        ("notices.yaml", b"\xff\xfe\x00bad", "notices.yaml: not UTF-8 text"),
    ],
)
def test_invalid_policy_files(cli, ws_dir, file, text, expected):
    before = _head(ws_dir)
    path = ws_dir / "policies" / file
    if text is None:
        import yaml

        doc = yaml.safe_load(path.read_text())
        doc["purposes"][3]["retention_days"] = -5
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    elif isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    r = cli(f"-w {ws_dir} audit verify")
    assert expected in _one_line_error(r)
    r = cli(f"policy validate {ws_dir / 'policies'} --json")
    assert r.exit_code == 2 and r.json()["ok"] is False
    path.parent.joinpath(file)  # restore happens with a fresh workspace per test
    import shutil

    from omniguard.policy import default_pack_dir

    shutil.copy(default_pack_dir() / file, path)
    assert _head(ws_dir) == before


def test_missing_workspace(cli, tmp_path):
    r = cli("audit verify", cwd=tmp_path)
    assert "no omniguard workspace" in _one_line_error(r)
    r = cli(f"-w {tmp_path} audit log")
    assert "no omniguard.toml" in _one_line_error(r)


def test_unreadable_and_malformed_key_files(cli, ws_dir):
    key = ws_dir / "keys" / "master.key"
    good = key.read_bytes()
    before = _head(ws_dir)
    key.write_text("not a key at all!")
    assert "not a base64 or hex master key" in _one_line_error(cli(f"-w {ws_dir} audit verify"))
    key.write_bytes(b"\x89PNG\x00\x01")
    assert "master key" in _one_line_error(cli(f"-w {ws_dir} audit verify"))
    key.write_bytes(good)
    os.chmod(key, 0o644)
    assert "too open" in _one_line_error(cli(f"-w {ws_dir} audit verify"))
    os.chmod(key, 0o600)
    key.unlink()
    assert "not found" in _one_line_error(cli(f"-w {ws_dir} audit verify"))
    key.write_bytes(good)
    os.chmod(key, 0o600)
    assert _head(ws_dir) == before


def test_wrong_master_key(cli, ws_dir):
    import base64

    key = ws_dir / "keys" / "master.key"
    good = key.read_bytes()
    before = _head(ws_dir)
    key.write_text(base64.b64encode(os.urandom(32)).decode())
    msg = _one_line_error(cli(f"-w {ws_dir} audit checkpoint"))
    assert "wrong master key" in msg
    assert good.decode().strip() not in msg
    key.write_bytes(good)
    assert _head(ws_dir) == before


def test_init_existing_refused_then_forced(cli, ws_dir):
    assert "already a workspace" in _one_line_error(cli(f"init {ws_dir}"))
    r = cli(f"init {ws_dir} --force --json")
    assert r.exit_code == 0, r.stderr


def test_verify_failure_exits_1_and_names_damage(cli, ws_dir):
    import sqlite3

    assert cli(f"-w {ws_dir} audit checkpoint").exit_code == 0
    with sqlite3.connect(ws_dir / "omniguard.db") as db:
        db.execute("UPDATE audit_events SET body = replace(body, 'workspace.init', 'workspace.xnit') WHERE seq = 1")
    r = cli(f"-w {ws_dir} audit verify --json")
    msg = _one_line_error(r, code=1)
    assert "edited at seq 1" in msg
    assert r.json()["damage"][0] == {"seq": 1, "kind": "edited", "detail": "seq 1: content does not match its hash"}


def test_bad_time_filter(cli, ws_dir):
    assert "--since" in _one_line_error(cli(f"-w {ws_dir} audit log --since yesterday"))


def test_bad_checkpoint_file(cli, ws_dir, tmp_path):
    (tmp_path / "cp.json").write_text("{nope")
    assert "not a checkpoint file" in _one_line_error(cli(f"-w {ws_dir} audit verify --checkpoint {tmp_path / 'cp.json'}"))


@pytest.mark.parametrize("args", [
    "rights erase M001 --request --yes",          # the id forgotten: --yes must not become the id
    "rights erase M001 --request 13800138000 --yes",
    "rights reject 110101199003071234 --reason duplicate",
])
def test_malformed_request_ids_are_named_without_repeating_them(ws_dir, cli, args):
    before = _head(ws_dir)
    line = _one_line_error(cli(args, cwd=ws_dir))
    assert "not a rights request id" in line
    assert "13800138000" not in line and "110101199003071234" not in line and "--yes" not in line
    assert _head(ws_dir) == before
