"""Property: for random event sequences, recorded one by one or in import batches, in or out of
time order, the derived state equals a replay of the events, and every check (point path, cached
batch path, as-of path, explain) equals the decision a plain-Python model of the rules makes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniguard.consent.checks import POINT_MAX
from omniguard.consent.writer import bump_state_version

UTC = dt.UTC
BEIJING = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 3, 1, tzinfo=UTC)
TIMES = [T0 + dt.timedelta(hours=h) for h in range(6)]
SUBJECTS = ["S1", "S2", "S3"]
ACTS = {
    "analytics": ["grant", "withdraw", "expire"],
    "personalised_marketing": ["grant", "withdraw", "expire", "opt_out", "opt_in"],
    "joint_profiling": ["grant", "withdraw", "expire"],
}
NOTICES = {"analytics": ["privacy-notice@1", "privacy-notice@2"],
           "personalised_marketing": ["privacy-notice@1", "privacy-notice@2"],
           "joint_profiling": ["joint-profiling-consent@1"]}
FRESH_FROM = {"analytics": 2, "personalised_marketing": 1, "joint_profiling": 1}  # v2 changed analytics only
SEPARATE = {"joint_profiling"}
AUTOMATED = {"personalised_marketing"}
CHECKED = [*ACTS, "order_fulfilment"]


@st.composite
def events(draw):
    purpose = draw(st.sampled_from(list(ACTS)))
    ev = {"subject_id": draw(st.sampled_from(SUBJECTS)), "purpose": purpose,
          "action": draw(st.sampled_from(ACTS[purpose])), "ts": draw(st.sampled_from(TIMES))}
    if ev["action"] == "grant":
        ev["notice"] = draw(st.sampled_from(NOTICES[purpose]))
        ev["separate"] = draw(st.booleans())
        ev["guardian_ref"] = draw(st.sampled_from([None, "G1"]))
        ev["birth"] = draw(st.sampled_from([None, None, ("birth_date", "2016-06-01"), ("birth_date", "1990-06-01"),
                                            ("age", 10), ("age", 30)]))
        ev["expires"] = draw(st.sampled_from([None, None, ev["ts"] + dt.timedelta(minutes=30)]))
    return ev


batches = st.lists(st.lists(events(), min_size=1, max_size=5), min_size=1, max_size=6)


def adult_from(ev):
    kind, value = ev["birth"]
    if kind == "birth_date":
        born = dt.date.fromisoformat(value)
        day = born.replace(year=born.year + 14)
    else:
        local = ev["ts"].astimezone(BEIJING).date()
        day = local.replace(year=local.year + 14 - value)
    return dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING).astimezone(UTC)


def replay(evs, until=None):
    """The model: last event per facet by (time, order), ages by (statement rank, order)."""
    consent, opt, ages = {}, {}, {}
    for order, ev in enumerate(evs):
        if ev.get("birth"):
            rank = 2 if ev["birth"][0] == "birth_date" else 1
            if (rank, order) >= ages.get(ev["subject_id"], ((0, -1), None))[0]:
                ages[ev["subject_id"]] = ((rank, order), adult_from(ev))
        if until is not None and ev["ts"] > until:
            continue
        facet = opt if ev["action"] in ("opt_out", "opt_in") else consent
        key = (ev["purpose"], ev["subject_id"])
        if key not in facet or (ev["ts"], order) >= (facet[key]["ts"], facet[key]["order"]):
            facet[key] = {**ev, "order": order}
    return consent, opt, {s: a for s, (_, a) in ages.items()}


def decide(purpose, subject, consent, opt, ages, at):
    if purpose == "order_fulfilment":
        return "not_required"
    c, o = consent.get((purpose, subject)), opt.get((purpose, subject))
    if purpose in AUTOMATED and o and o["action"] == "opt_out":
        return "opted_out"
    if c is None:
        return "no_consent"
    if c["action"] == "withdraw":
        return "withdrawn"
    if c["action"] == "expire" or (c.get("expires") and c["expires"] <= at):
        return "expired"
    if purpose in SEPARATE and not c["separate"]:
        return "bundled"
    if subject in ages and c["ts"] < ages[subject] and not c["guardian_ref"]:
        return "minor_without_guardian"
    if int(c["notice"].split("@")[1]) < FRESH_FROM[purpose]:
        return "stale"
    return "ok"


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reset(ws):
    with ws.store.write() as conn:
        for t in ("consent_events", "consent_state", "consent_subjects", "consent_batches", "consent_notices"):
            conn.exec_driver_sql(f"DELETE FROM {t}")
        bump_state_version(conn)


def record(ws, batch, tmp_path, n):
    if len(batch) == 1:
        ev = batch[0]
        kw = {"at": iso(ev["ts"])}
        if ev["action"] == "grant":
            birth = ev["birth"] or (None, None)
            kw |= {"notice": ev["notice"], "separate": ev["separate"], "guardian": ev["guardian_ref"],
                   "expires_at": iso(ev["expires"]) if ev["expires"] else None,
                   "birth_date": birth[1] if birth[0] == "birth_date" else None,
                   "age": birth[1] if birth[0] == "age" else None}
        getattr(ws.consent, ev["action"])(ev["subject_id"], ev["purpose"], **kw)
        return
    rows = []
    for i, ev in enumerate(batch):
        birth = ev.get("birth") or (None, None)
        rows.append({"event_id": f"B{n}-{i}", "subject_id": ev["subject_id"], "purpose": ev["purpose"],
                     "action": ev["action"], "ts": iso(ev["ts"]), "notice": ev.get("notice"),
                     "separate": ev.get("separate", False), "guardian_ref": ev.get("guardian_ref"),
                     "expires_at": iso(ev["expires"]) if ev.get("expires") else None,
                     "birth_date": birth[1] if birth[0] == "birth_date" else None,
                     "age": birth[1] if birth[0] == "age" else None})
    path = tmp_path / f"batch{n}.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    ws.consent.import_file(path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches)
def test_state_equals_replay_and_checks_equal_model(v2_workspace, tmp_path, plan):
    ws = v2_workspace
    reset(ws)
    for n, batch in enumerate(plan):
        record(ws, batch, tmp_path, n)
    evs = [ev for batch in plan for ev in batch]
    with ws.store.read() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT event_id FROM consent_events ORDER BY seq")]
        state = {(r[0], r[1]): r[2:] for r in conn.exec_driver_sql(
            "SELECT purpose, subject_id, status, event_id, opted_out, opt_event_id FROM consent_state")}
        ages = {r[0]: r[1] for r in conn.exec_driver_sql("SELECT subject_id, adult_from FROM consent_subjects")}
    assert len(ids) == len(evs)
    consent, opt, model_ages = replay(evs)
    status = {"grant": "granted", "withdraw": "withdrawn", "expire": "expired"}
    expected = {}
    for key in set(consent) | set(opt):
        c, o = consent.get(key), opt.get(key)
        expected[key] = (status[c["action"]] if c else None, ids[c["order"]] if c else None,
                         bool(o and o["action"] == "opt_out"), ids[o["order"]] if o else None)
    assert {k: (v[0], v[1], bool(v[2]), v[3]) for k, v in state.items()} == expected
    assert ages == {s: iso(a) for s, a in model_ages.items()}

    now = dt.datetime.now(UTC)
    padded = SUBJECTS + [f"X{i}" for i in range(POINT_MAX)]
    for purpose in CHECKED:
        want = [decide(purpose, s, consent, opt, model_ages, now) for s in SUBJECTS]
        ok = [w in ("ok", "not_required") for w in want]
        assert ws.consent.allowed(SUBJECTS, purpose, record=False).tolist() == ok, (purpose, want)
        assert ws.consent.allowed(padded, purpose, record=False)[:3].tolist() == ok  # loads the cache
        assert ws.consent.allowed(SUBJECTS, purpose, record=False).tolist() == ok  # small batch, warm cache
        assert [ws.consent.explain(s, purpose, record=False).code for s in SUBJECTS] == want
    mid = TIMES[2] + dt.timedelta(minutes=45)
    c_mid, o_mid, _ = replay(evs, until=mid)
    for purpose in ACTS:
        want = [decide(purpose, s, c_mid, o_mid, model_ages, mid) == "ok" for s in SUBJECTS]
        assert ws.consent.allowed(SUBJECTS, purpose, at=iso(mid), record=False).tolist() == want
