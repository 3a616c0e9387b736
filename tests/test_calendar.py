"""Issue 11: dates from --start (working days with China's holidays) and the obligations calendar."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.engine.calendar import add_workdays, is_workday, last_workdays

runner = CliRunner()
D = dt.date
DEBT = (
    "calendar",
    "--asset-class",
    "debt",
    "--province",
    "CN-GD",
    "--city",
    "shenzhen",
    "--amount",
    "50000000",
    "--term-months",
    "36",
    "--as-of",
    "2026-11-29",
)
EQUITY = (
    "calendar",
    "--asset-class",
    "equity",
    "--province",
    "CN-GD",
    "--city",
    "shenzhen",
    "--amount",
    "50000000",
    "--term-months",
    "60",
    "--as-of",
    "2026-11-29",
)


def invoke(*args):
    return runner.invoke(app, list(args))


def test_working_days_skip_holidays_and_count_adjusted_days():
    """chinese_calendar: National Day 2026 (1-7 Oct) is skipped; Sunday 20 Sep 2026 and Saturday
    14 Feb 2026 are adjusted working days."""
    assert add_workdays(D(2026, 9, 30), 1) == (D(2026, 10, 8), True)
    assert is_workday(D(2026, 9, 20)) == (True, True)
    assert is_workday(D(2026, 2, 14)) == (True, True)
    assert is_workday(D(2026, 10, 1)) == (False, True)


def test_ndrc_drawdown_report_skips_dragon_boat_festival():
    """NDRC report within 10 working days of the drawdown (Order 56, unverified): from Mon 15 Jun
    2026, Fri 19 Jun (Dragon Boat Festival) does not count: due 30 Jun."""
    assert add_workdays(D(2026, 6, 15), 10) == (D(2026, 6, 30), True)


def test_beyond_the_package_years_weekends_only_and_said_so():
    """Beyond the years chinese_calendar knows, only weekends are skipped and the result says so."""
    day, known = add_workdays(D(2026, 12, 30), 3)
    assert day == D(2027, 1, 4) and known is False
    lo, hi, known = last_workdays(2030, 1, 5)
    assert (lo, hi, known) == (D(2030, 1, 25), D(2030, 1, 31), False)


def test_ics_parses_back_with_icalendar(tmp_path):
    """`repatriate calendar -o plan.ics` writes an iCalendar file that icalendar reads back."""
    import icalendar

    out = tmp_path / "plan.ics"
    res = invoke(*DEBT, "--start", "2026-03-02", "-o", str(out))
    assert res.exit_code == 0, res.output
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = list(cal.walk("VEVENT"))
    assert events
    ids = {str(e["uid"]).split("-")[0] for e in events}
    assert {"ndrc_drawdown_report", "ndrc_periodic_report", "payout_tax"} <= ids
    starts = [e.decoded("dtstart") for e in events]
    assert starts == sorted(starts)
    again = invoke(*DEBT, "--start", "2026-03-02", "-o", str(out))
    assert again.exit_code == 2 and "exists" in again.output


def test_dividends_wait_for_the_audit_season():
    """Dividends leave after the annual audit (practice, Acclime: June/July): the first payout tax
    event falls in July of the year after the funds arrive; the FIE annual report is due 30 June."""
    res = invoke(*EQUITY, "--start", "2026-03-02", "--format", "json")
    doc = json.loads(res.stdout)
    funds = D.fromisoformat(doc["funds_latest"])
    payouts = [e for e in doc["events"] if e["id"] == "payout_tax"]
    assert payouts and D.fromisoformat(payouts[0]["window_start"]) == D(funds.year + 1, 6, 30)
    reports = [e["date"] for e in doc["events"] if e["id"] == "fie_annual_report"]
    assert reports[0] == f"{funds.year + 1}-06-30"


def test_csv_and_route_dates():
    res = invoke(*DEBT, "--start", "2026-03-02", "--format", "csv")
    assert res.exit_code == 0 and res.stdout.startswith("date,window_start,id,name")
    route = runner.invoke(
        app, ["route", *DEBT[1:], "--start", "2026-03-02", "--format", "json", "--top", "1"]
    )
    r = json.loads(route.stdout)["routes"][0]
    assert r["dates"]["start"] == "2026-03-02"
    assert r["dates"]["funds_earliest"] <= r["dates"]["funds_latest"]
    assert r["dates"]["payouts"]


def test_bad_start_is_one_line():
    res = invoke(*DEBT, "--start", "2026-13-01")
    assert res.exit_code == 2 and "start" in res.output and "Traceback" not in res.output


def test_route_start_up_does_not_import_the_calendar_packages():
    """chinese_calendar and icalendar load only when dates or a calendar are asked for."""
    code = (
        "import sys; from repatriate.cli import main; sys.argv=['repatriate','route','--asset-class','equity',"
        "'--province','CN-GD','--amount','1e7','--format','json','--top','1']\n"
        "import io, contextlib\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main()\n"
        "    except SystemExit: pass\n"
        "print('chinese_calendar' in sys.modules, 'icalendar' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"


def test_statutory_limits_counted_in_working_days_over_national_day():
    """A statutory limit in working days (weeks x 5) skips National Day: the ODI NDRC filing
    (7 working days) started on Mon 21 Sep 2026 is due on 8 Oct, not 30 Sep."""
    res = runner.invoke(
        app,
        [
            "route",
            "--asset-class",
            "equity",
            "--province",
            "CN-GD",
            "--city",
            "shenzhen",
            "--amount",
            "5e7",
            "--start",
            "2026-09-21",
            "--as-of",
            "2026-11-29",
            "--format",
            "json",
            "--top",
            "1",
        ],
    )
    steps = {s["id"]: s for s in json.loads(res.stdout)["routes"][0]["dates"]["steps"]}
    ndrc = steps["odi_ndrc_filing"]
    assert ndrc["start_earliest"] == "2026-09-21"
    assert ndrc["statutory_by"] == add_workdays(D(2026, 9, 21), 7)[0].isoformat() == "2026-10-08"


def test_redemption_by_capital_reduction_waits_for_creditors():
    """Company Law 2023 Art. 224: notify creditors within 10 days, announce within 30; creditors
    have 30 days from notice or 45 from the announcement: 45-75 days before the money can leave."""
    res = runner.invoke(
        app,
        [
            "route",
            "--asset-class",
            "equity",
            "--province",
            "CN-GD",
            "--city",
            "shenzhen",
            "--amount",
            "5e7",
            "--format",
            "json",
            "--top",
            "1",
        ],
    )
    red = json.loads(res.stdout)["routes"][0]["payout"]["redemption"]
    assert red["leg"] == "capital_reduction" and red["creditor_days"] == {"min": 45, "max": 75}
    assert "company_law_2023" in red["sources"]
