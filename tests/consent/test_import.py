"""Bulk import: encodings, Chinese headers, and all-or-nothing rejection with a line-numbered report."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.consent.importer import ImportRejected, sniff_encoding

HEADER = "event_id,subject_id,purpose,action,ts,notice,separate,channel\n"
GOOD = [
    "E1,M001,analytics,grant,2026-03-01T10:00:00+08:00,privacy-notice@1,false,app",
    "E2,M002,joint_profiling,grant,2026-03-01T11:00:00+08:00,joint-profiling-consent@1,true,mini-program",
    "E3,M001,analytics,withdraw,2026-03-02T10:00:00+08:00,,,app",
    "E4,M003,personalised_marketing,opt_out,2026-03-03 09:00:00,,,store",
]


def event_count(ws) -> int:
    with ws.store.read() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM consent_events").scalar_one())


def write(path, lines, encoding="utf-8", header=HEADER):
    path.write_bytes((header + "\n".join(lines) + "\n").encode(encoding))
    return path


def test_good_file_imports_and_derives_state(workspace, tmp_path):
    ws = workspace
    rep = ws.consent.import_file(write(tmp_path / "ok.csv", GOOD))
    assert rep.ok and rep.imported == 4 and rep.subjects == 3
    assert rep.by_action == {"grant": 2, "opt_out": 1, "withdraw": 1}
    assert ws.consent.allowed(["M001", "M002"], "analytics").tolist() == [False, False]
    assert ws.consent.allowed(["M002"], "joint_profiling").tolist() == [True]
    assert ws.consent.explain("M003", "personalised_marketing").code == "opted_out"
    # Naive times are Beijing time.
    assert ws.consent.history("M003")[0]["ts"] == "2026-03-03T01:00:00.000000Z"
    ev = list(ws.audit.query(action="consent.import"))[-1]
    assert ev["rows"] == 4 and ev["subjects"] == 3 and ev["details"]["batch"] == rep.batch


@pytest.mark.parametrize("case, line, expected", [
    ("unknown purpose", "E9,M009,spying,grant,2026-03-01T10:00:00Z,privacy-notice@1,false,app", "unknown purpose 'spying'"),
    ("malformed subject id", "E9,M 009,analytics,grant,2026-03-01T10:00:00Z,privacy-notice@1,false,app", "malformed subject id"),
    ("future timestamp", "E9,M009,analytics,grant,2999-03-01T10:00:00Z,privacy-notice@1,false,app", "future"),
    ("duplicated event id", "E2,M009,analytics,grant,2026-03-01T10:00:00Z,privacy-notice@1,false,app",
     "duplicated event id (first on line 3)"),
    ("unreadable time", "E9,M009,analytics,grant,yesterday,privacy-notice@1,false,app", "unreadable time"),
    ("grant without notice", "E9,M009,analytics,grant,2026-03-01T10:00:00Z,,false,app", "must cite the notice"),
    ("notice not covering", "E9,M009,analytics,grant,2026-03-01T10:00:00Z,health-consent@1,false,app", "does not cover"),
    ("unknown channel", "E9,M009,analytics,grant,2026-03-01T10:00:00Z,privacy-notice@1,false,telepathy", "unknown channel"),
])
def test_bad_line_rejects_whole_file(workspace, tmp_path, case, line, expected):
    ws = workspace
    path = write(tmp_path / "bad.csv", [*GOOD[:2], line, *GOOD[2:]])
    with pytest.raises(ImportRejected) as exc:
        ws.consent.import_file(path)
    rep = exc.value.report
    assert rep.rejected[0][0] == 4, rep.rejected  # header is line 1, the bad line is the 3rd record
    assert expected in rep.rejected[0][1]
    assert len(rep.rejected) == 1
    assert event_count(ws) == 0  # nothing half-imported
    denied = list(ws.audit.query(action="consent.import"))[-1]
    assert denied["decision"] == "deny" and denied["details"]["rejected_lines"] == 1
    assert "M 009" not in json.dumps(rep.to_dict()) and "telepathy" not in exc.value.message


def test_wrong_encoding_is_reported_with_its_line(workspace, tmp_path):
    ws = workspace
    good = (HEADER + "\n".join(GOOD[:2]) + "\n").encode("utf-8")
    bad_line = "E7,M007,analytics,grant,2026-03-01T10:00:00Z,privacy-notice@1,false,门店\n".encode("gbk")
    (tmp_path / "mixed.csv").write_bytes(good.replace(b"app", "应用".encode()) + bad_line)
    with pytest.raises(ImportRejected) as exc:
        ws.consent.import_file(tmp_path / "mixed.csv")
    assert exc.value.report.rejected == [(4, "not valid UTF-8 text (the lines before it are UTF-8)")]
    assert event_count(ws) == 0


def test_existing_event_ids_and_reimport_are_rejected(any_workspace, tmp_path):
    ws = any_workspace
    path = write(tmp_path / "ok.csv", GOOD)
    ws.consent.import_file(path)
    with pytest.raises(ImportRejected) as exc:
        ws.consent.import_file(path)
    assert [ln for ln, _ in exc.value.report.rejected] == [2, 3, 4, 5]
    assert all("already imported" in m for _, m in exc.value.report.rejected)
    # Without an event id column an event is named by its content: the same file twice is caught too.
    no_ids = tmp_path / "no-ids.csv"
    no_ids.write_text("subject_id,purpose,action,ts,notice\nM5,analytics,grant,2026-03-01T00:00:00Z,privacy-notice@1\n",
                      encoding="utf-8")
    ws.consent.import_file(no_ids)
    with pytest.raises(ImportRejected, match="already imported"):
        ws.consent.import_file(no_ids)
    assert event_count(ws) == 5


def test_gbk_file_with_chinese_headers_and_mapping(workspace, tmp_path):
    ws = workspace
    text = ("会员编号,处理目的,操作,发生时间,告知版本,单独同意,渠道,出生日期,监护人,备注\n"
            "M100,joint_profiling,同意,2026-04-01 12:00:00,joint-profiling-consent@1,是,小程序,,,无\n"
            "K200,analytics,同意,2026-04-01 12:00:00,privacy-notice@1,否,门店,2016-07-01,,无\n"
            "K201,analytics,同意,2026-04-01 12:00:00,privacy-notice@1,否,门店,2016-07-01,P1,无\n")
    (tmp_path / "gbk.csv").write_bytes(text.encode("gbk"))
    rep = ws.consent.import_file(tmp_path / "gbk.csv")
    assert rep.encoding == "gb18030" and rep.imported == 3 and rep.ignored_columns == ["备注"]
    assert ws.consent.allowed(["M100"], "joint_profiling").tolist() == [True]
    assert ws.consent.allowed(["K200", "K201"], "analytics").tolist() == [False, True]
    # A user mapping for a header the aliases do not know; UTF-8 with BOM.
    (tmp_path / "bom.csv").write_bytes("\ufeff客户号,purpose,action,ts,notice\nM300,analytics,grant,2026-04-02T00:00:00Z,"
                                       "privacy-notice@1\n".encode("utf-8"))
    with pytest.raises(ImportRejected, match="missing column: subject_id"):
        ws.consent.import_file(tmp_path / "bom.csv")
    rep = ws.consent.import_file(tmp_path / "bom.csv", mapping={"客户号": "subject_id"})
    assert rep.encoding == "utf-8-sig" and ws.consent.allowed(["M300"], "analytics").tolist() == [True]


def test_jsonl_and_bad_json_line(workspace, tmp_path):
    ws = workspace
    rows = [{"event_id": "J1", "subject_id": "M1", "purpose": "analytics", "action": "grant",
             "ts": "2026-05-01T00:00:00Z", "notice": "privacy-notice@1", "age": 30,
             "evidence": json.dumps({"screen": "v1", "accepted": "tap"})},
            {"event_id": "J2", "subject_id": "M2", "purpose": "analytics", "action": "grant",
             "ts": "2026-05-01T00:00:00Z", "notice": "privacy-notice@1"}]
    path = tmp_path / "ev.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert ws.consent.import_file(path).imported == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0] | {"event_id": "J3"}) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as exc:
        ws.consent.import_file(bad)
    assert exc.value.report.rejected == [(2, "not valid JSON")]


def test_erased_subject_cannot_be_resurrected_by_import(workspace, tmp_path):
    ws = workspace
    path = write(tmp_path / "ok.csv", GOOD)
    ws.consent.import_file(path)
    ws.rights.erase("M002")
    again = write(tmp_path / "again.csv", [GOOD[1].replace("E2", "E2b")])
    with pytest.raises(ImportRejected, match="erased"):
        ws.consent.import_file(again)
    now = dt.datetime.now(dt.UTC).isoformat()
    later = write(tmp_path / "later.csv", [f"E5,M002,joint_profiling,grant,{now},joint-profiling-consent@1,true,app"])
    with pytest.raises(ImportRejected, match="readmit-erased"):
        ws.consent.import_file(later)
    assert ws.consent.import_file(later, readmit_erased=True).imported == 1
    assert ws.consent.allowed(["M002"], "joint_profiling").tolist() == [True]


def test_dry_run_writes_nothing(workspace, tmp_path):
    ws = workspace
    rep = ws.consent.import_file(write(tmp_path / "ok.csv", GOOD), dry_run=True)
    assert rep.ok and rep.imported == 0 and rep.rows == 4
    assert event_count(ws) == 0


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
       st.sampled_from(["utf-8", "gbk"]))
def test_sniff_encoding_round_trip(text, encoding):
    """Any text that encodes in UTF-8 or GBK is read back as that text."""
    try:
        data = ("id\n" + text).encode(encoding)
    except UnicodeEncodeError:
        return
    enc, problem = sniff_encoding(data)
    assert problem is None
    assert data.decode(enc) == "id\n" + text or (encoding == "gbk" and enc.startswith("utf-8"))


def test_validator_is_columnar_over_a_large_file(workspace, tmp_path):
    from omniguard.consent.synthetic import consent_events

    frame = consent_events(20_000, seed=3)
    frame.loc[[5, 17_000], "subject_id"] = ["bad id", ""]
    frame.to_csv(tmp_path / "big.csv", index=False)
    with pytest.raises(ImportRejected) as exc:
        workspace.consent.import_file(tmp_path / "big.csv")
    lines = [ln for ln, _ in exc.value.report.rejected]
    assert lines == [7, 17_002]
    assert event_count(workspace) == 0


def test_large_import_takes_the_bulk_path_and_keeps_the_subject_index(workspace, tmp_path, monkeypatch):
    from omniguard.consent import writer
    from omniguard.consent.synthetic import consent_events

    monkeypatch.setattr(writer, "_BULK_ROWS", 1000)  # the path of a large import, at test size
    frame = consent_events(3000, 1000, seed=5)
    frame.to_csv(tmp_path / "big.csv", index=False)
    rep = workspace.consent.import_file(tmp_path / "big.csv")
    assert rep.imported == len(frame)
    with workspace.store.read() as conn:
        indexes = {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'consent_events'")}
        plan = " ".join(str(r) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM consent_events WHERE subject_id = 'M0000001'"))
        states = conn.exec_driver_sql("SELECT count(*) FROM consent_state").scalar_one()
    assert "ix_consent_events_subject" in indexes and "ix_consent_events_subject" in plan
    last = frame.sort_values("ts").drop_duplicates(["purpose", "subject_id"], keep="last")
    assert states == len(last)
    sample = last[(last["action"] == "withdraw") & (last["purpose"] != "personalised_marketing")].iloc[0]
    assert workspace.consent.explain(sample["subject_id"], sample["purpose"], record=False).code == "withdrawn"


def test_state_follows_a_batch_whether_found_by_seq_or_by_event_id(any_workspace, tmp_path):
    """The state merge finds a batch's rows by seq when the batch got consecutive seqs and by
    event id when not (a PostgreSQL sequence keeps the numbers a rolled-back import took)."""
    from sqlalchemy import event

    ws = any_workspace
    merges: list[str] = []
    event.listen(ws.store.engine, "before_cursor_execute",
                 lambda _c, _cur, stmt, *_a: merges.append(stmt) if "INSERT INTO consent_state" in stmt else None)
    ws.consent.import_file(write(tmp_path / "ok.csv", GOOD))
    assert "e.seq = j.value" in merges[-1]
    with pytest.raises(ImportRejected):  # the insert hits E1 and rolls back
        ws.consent.import_file(write(tmp_path / "again.csv", [GOOD[1].replace("E2", "E9"), GOOD[0]]))
    later = ["E5,M001,analytics,grant,2026-03-05T10:00:00+08:00,privacy-notice@1,false,app",
             "E6,M002,joint_profiling,withdraw,2026-03-05T11:00:00+08:00,,,app"]
    ws.consent.import_file(write(tmp_path / "later.csv", later))
    gap = ws.store.dialect == "postgresql"
    assert ("e.event_id = j.value" if gap else "e.seq = j.value") in merges[-1]
    assert ws.consent.allowed(["M001", "M002"], "analytics").tolist() == [True, False]
    assert ws.consent.allowed(["M001", "M002"], "joint_profiling").tolist() == [False, False]
    assert ws.consent.explain("M001", "analytics", record=False).event["event_id"] == "E5"
