"""`omniguard consent ...` and `omniguard rights ...`: exit codes, --json, clear errors, nothing half-written."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def ws_root(workspace):
    return workspace.root


def test_grant_check_withdraw_exit_codes(cli, ws_root):
    w = f"-w {ws_root}"
    res = cli(f"{w} consent grant M1 joint_profiling --notice joint-profiling-consent@1 --separate --channel app --json")
    assert res.exit_code == 0 and res.json()["action"] == "grant"
    res = cli(f"{w} consent check joint_profiling --subject M1 --json")
    assert res.exit_code == 0 and res.json()["allowed"] is True
    assert cli(f"{w} consent withdraw M1 joint_profiling").exit_code == 0
    res = cli(f"{w} consent check joint_profiling --subject M1")
    assert res.exit_code == 1 and "withdrawn" in res.stdout
    res = cli(f"{w} consent grant K1 analytics --notice privacy-notice@1 --birth-date 2016-01-01")
    assert res.exit_code == 0
    res = cli(f"{w} consent check analytics --subject K1 --json")
    assert res.exit_code == 1 and res.json()["code"] == "minor_without_guardian"
    assert cli(f"{w} consent opt-out M2 personalised_marketing").exit_code == 0
    assert cli(f"{w} consent check personalised_marketing --subject M2").exit_code == 1


@pytest.mark.parametrize("args, message", [
    ("consent grant M1 spying --notice privacy-notice@1", "unknown purpose 'spying'"),
    ("consent grant 'M 1' analytics --notice privacy-notice@1", "malformed subject id"),
    ("consent grant M1 analytics --notice nonsense", "malformed notice"),
    ("consent grant M1 analytics --notice privacy-notice@1 --at 2999-01-01", "future"),
    ("consent check analytics", "exactly one of"),
    ("consent check spying --subject M1", "unknown purpose"),
    ("rights erase M1", "--yes"),
    ("rights correct M1", "nothing to correct"),
])
def test_bad_input_is_one_line_exit_2(cli, ws_root, args, message):
    res = cli(f"-w {ws_root} {args}")
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert message in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[0].startswith("error: ")


def test_check_many_subjects(cli, ws_root, tmp_path):
    w = f"-w {ws_root}"
    for s in ("M1", "M3"):
        assert cli(f"{w} consent grant {s} analytics --notice privacy-notice@1").exit_code == 0
    (tmp_path / "ids.txt").write_text("M1\nM2\n\nM3\nnot an id\n", encoding="utf-8")
    res = cli(f"{w} consent check analytics --subjects {tmp_path / 'ids.txt'} --json")
    assert res.exit_code == 0 and res.json() == {"purpose": "analytics", "checked": 4, "allowed_count": 2,
                                                 "allowed": ["M1", "M3"]}
    res = cli(f"{w} consent check analytics --subjects {tmp_path / 'ids.txt'} -o {tmp_path / 'ok.txt'}")
    assert res.exit_code == 0 and (tmp_path / "ok.txt").read_text() == "M1\nM3\n"
    res = cli(f"{w} consent check analytics --subjects {tmp_path / 'ids.txt'}")
    assert res.stdout.split() == ["M1", "M3"]


def test_import_report_and_nothing_written_on_bad_file(cli, ws_root, tmp_path):
    w = f"-w {ws_root}"
    bad = tmp_path / "bad.csv"
    bad.write_text("subject_id,purpose,action,ts,notice\nM1,analytics,grant,2026-03-01T00:00:00Z,privacy-notice@1\n"
                   "M2,nope,grant,2026-03-01T00:00:00Z,privacy-notice@1\nM3,analytics,grant,2999-01-01,privacy-notice@1\n",
                   encoding="utf-8")
    res = cli(f"{w} consent import {bad} --report {tmp_path / 'rep.json'}")
    assert res.exit_code == 2
    assert "line 3: unknown purpose 'nope'" in res.stderr and "line 4: time in the future" in res.stderr
    rep = json.loads((tmp_path / "rep.json").read_text(encoding="utf-8"))
    assert rep["ok"] is False and rep["rejected_lines"] == 2 and rep["imported"] == 0
    res = cli(f"{w} consent export -o {tmp_path / 'hist.csv'} --history --json")
    assert res.exit_code == 0 and res.json()["rows"] == 0
    good = tmp_path / "good.csv"
    good.write_text("会员编号,目的,操作,时间,告知版本\nM1,analytics,同意,2026-03-01 08:00:00,privacy-notice@1\n", encoding="gbk")
    res = cli(f"{w} consent import {good} --json")
    assert res.exit_code == 0 and res.json()["imported"] == 1 and res.json()["encoding"] == "gb18030"
    res = cli(f"{w} consent export -o {tmp_path / 'state.jsonl'} --purpose analytics --json")
    assert res.exit_code == 0 and res.json()["rows"] == 1
    row = json.loads((tmp_path / "state.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert row["subject_id"] == "M1" and row["reason"] == "ok" and row["allowed"] is True
    stats = cli(f"{w} consent stats --json").json()
    analytics = next(p for p in stats["purposes"] if p["purpose"] == "analytics")
    assert analytics["allowed"] == 1 and analytics["coverage"] == 1.0


def test_rights_commands(cli, ws_root, tmp_path):
    w = f"-w {ws_root}"
    crm = tmp_path / "crm.csv"
    crm.write_text("member_id,city\nM1,上海\nM2,北京\n", encoding="utf-8")
    assert cli(f"{w} consent grant M1 analytics --notice privacy-notice@1").exit_code == 0
    res = cli(f"{w} rights open access M1 --received 2026-01-05T09:00:00+08:00 --json")
    rid = res.json()["request_id"]
    res = cli(f"{w} rights list --overdue --json")
    assert res.exit_code == 1 and [r["request_id"] for r in res.json()] == [rid]
    res = cli(f"{w} rights export M1 --request {rid} --dataset {crm}:member_id -o {tmp_path / 'm1.json'} --json")
    assert res.exit_code == 0 and res.json()["datasets"] == {"crm.csv": 1}
    doc = json.loads((tmp_path / "m1.json").read_text(encoding="utf-8"))
    assert doc["datasets"][0]["rows"] == [{"member_id": "M1", "city": "上海"}]
    assert cli(f"{w} rights list --overdue").exit_code == 0
    res = cli(f"{w} rights erase M1 --dataset {crm}:member_id --yes --json")
    assert res.exit_code == 0 and res.json()["deleted"]["events"] == 1
    assert "M1" not in crm.read_text(encoding="utf-8")
    assert cli(f"{w} consent check analytics --subject M1").exit_code == 1
    res = cli(f"{w} rights list --json")
    assert {r["kind"]: r["status"] for r in res.json()} == {"access": "completed", "erase": "completed"}
    assert cli(f"{w} rights export M1 --dataset {tmp_path / 'missing.csv'}:member_id").exit_code == 2


def test_import_summary_shows_the_encoding_and_a_bracketed_file_name(cli, ws_root, tmp_path):
    """Console markup must not eat "[gb18030]" nor choke on a file name holding brackets."""
    path = tmp_path / "events[bold].csv"
    path.write_text("会员编号,目的,操作,时间,告知版本\nM1,analytics,同意,2026-03-01 08:00:00,privacy-notice@1\n",
                    encoding="gbk")
    res = cli(["-w", str(ws_root), "consent", "import", str(path)])
    assert res.exit_code == 0, res.stderr
    assert "from events[bold].csv [gb18030] in" in res.stdout
