"""The workforce map through ingest and publish, and ``neighbourhood capacity run`` on it."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from neighbourhood.capacity import demand as demand_mod
from neighbourhood.capacity import run as capacity
from neighbourhood.capacity import scenario as scenario_mod
from neighbourhood.phm.publish import open_published
from neighbourhood.warehouse.store import WAREHOUSE_FILE
from tests.support.commands import run
from tests.support.synthetic import copy_of

SCENARIO = """
schema = "neighbourhood.capacity.scenario/1"
name = "{name}"
replications = 3
days = 120
warm_up_days = 14
workers = {workers}
[levers]
shift_to_community = [0.05, 0.1]
[levers.enrolment]
frailty = 0.5
[staff]
district_nurse = {nurses}
"""


def scenario(tmp_path: Path, name: str, nurses: float = 0, workers: int = 0) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(SCENARIO.format(name=name, nurses=nurses, workers=workers), encoding="utf-8")
    return path


def test_every_extracts_staff_reach_the_published_map_without_who_they_are(
    published_dir: Path,
) -> None:
    rows = 0
    for path in (published_dir / "extracts" / "workforce").rglob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            rows += sum(1 for _ in csv.DictReader(handle))
    wh = duckdb.connect(str(published_dir / WAREHOUSE_FILE), read_only=True)
    try:
        loaded = wh.execute("SELECT count(*) FROM workforce").fetchone()
    finally:
        wh.close()
    con = open_published(published_dir)
    try:
        published = con.execute("SELECT count(*) FROM workforce").fetchone()
        columns = [c[0] for c in con.execute("DESCRIBE workforce").fetchall()]
        sectors = {r[0] for r in con.execute("SELECT DISTINCT sector FROM workforce").fetchall()}
    finally:
        con.close()
    assert rows > 0 and loaded == (rows,) and published == (rows,)
    assert "staff_ref" not in columns and "post_ref" not in columns
    assert sectors == {
        "community",
        "mental_health",
        "acute",
        "general_practice",
        "social_care",
        "vcfse",
    }


def test_demand_is_learned_per_cell_and_the_rates_add_up_to_the_timeline(
    published_dir: Path,
) -> None:
    demand = demand_mod.learn(published_dir)
    con = open_published(published_dir)
    try:
        (visits,) = con.execute(
            "SELECT count(*) FROM timeline t JOIN person_profiles p USING (person_id) "
            "WHERE t.activity = 'district_nursing_visit' AND NOT coalesce(p.opted_out, false) "
            "AND p.neighbourhood IS NOT NULL AND t.start_date > DATE '2025-09-30' "
            "AND t.start_date <= DATE '2026-09-30'"
        ).fetchone()
    finally:
        con.close()
    assert demand.as_of.isoformat() == "2026-09-30"
    learned = sum(v for k, v in demand.contacts.items() if k[4] == "district_nursing")
    assert visits > 0 and learned == pytest.approx(visits)
    assert all(abs(sum(s) - 12) < 1e-9 for s in demand.seasonality.values())
    rates = demand.rates()
    assert {r["service"] for r in rates} >= {"district_nursing", "gp", "hospital"}
    # Projected with no levers, a neighbourhood's demand is what was observed.
    n = demand.neighbourhoods[0]
    none = demand_mod.Drawn(0.0, 0.0, {}, {})
    projected = demand_mod.project(demand, n, none)
    observed = sum(
        v for k, v in demand.contacts.items() if k[0] == n and k[4] == "district_nursing"
    )
    assert sum(v for (s, _), v in projected.items() if s == "district_nursing") == pytest.approx(
        observed
    )
    assert sum(v for (s, _), v in projected.items() if s == "urgent_community_response") == 0
    shifted = demand_mod.project(demand, n, demand_mod.Drawn(0.0, 0.1, {}, {}))
    hospital = sum(v for k, v in demand.contacts.items() if k[0] == n and k[4] == "hospital")
    assert sum(
        v for (s, _), v in shifted.items() if s == "urgent_community_response"
    ) == pytest.approx(0.1 * hospital)


def test_the_demand_command_gives_the_rates_the_model_starts_from(published_dir: Path) -> None:
    done = run("capacity", "demand", "--data", str(published_dir), "--json")
    assert done.returncode == 0, done.stderr
    given = json.loads(done.stdout)
    demand = demand_mod.learn(published_dir)
    assert given["as_of"] == "2026-09-30" and given["months"] == 12
    by_service: dict[str, float] = {}
    for row in given["rates"]:
        by_service[row["service"]] = by_service.get(row["service"], 0) + row["contacts_a_year"]
        assert row["rate"] == pytest.approx(
            row["contacts_a_year"] / row["people"] if row["people"] else 0, abs=1e-3
        )
    for service, year in by_service.items():
        learned = sum(v for k, v in demand.contacts.items() if k[4] == service)
        assert year == pytest.approx(learned, abs=0.01 * len(given["rates"]))
    shown = run("capacity", "demand", "--data", str(published_dir))
    assert shown.returncode == 0 and "per 1,000 people" in shown.stdout


def test_two_scenarios_side_by_side_as_json_and_html(published_dir: Path, tmp_path: Path) -> None:
    base = scenario(tmp_path, "Baseline")
    more = scenario(tmp_path, "Four more nurses", nurses=4)
    page = tmp_path / "compare.html"
    done = run(
        "capacity", "run", "--data", str(published_dir), "--scenario", str(base),
        "--scenario", str(more), "--json", "--html", str(page),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert [r["scenario"] for r in results] == ["Baseline", "Four more nurses"]
    assert len(results[0]["scenario_hash"]) == 16
    assert results[0]["scenario_hash"] != results[1]["scenario_hash"]
    for n, figures in results[0]["neighbourhoods"].items():
        other = results[1]["neighbourhoods"][n]
        # The same referrals (shared random numbers); more nurses, no longer waits.
        for service in ("therapy", "gp", "mental_health"):
            assert (
                figures["services"][service]["arrivals"]["mean"]
                == other["services"][service]["arrivals"]["mean"]
            )
        dn = figures["services"]["district_nursing"]
        assert (
            dn["mean_wait_days"]["mean"]
            >= other["services"]["district_nursing"]["mean_wait_days"]["mean"] - 1e-9
        )
        assert (
            dn["mean_wait_days"]["low"]
            <= dn["mean_wait_days"]["mean"]
            <= dn["mean_wait_days"]["high"]
        )
        extra = [u for u in other["utilisation"] if u["employer"] == "scenario"]
        assert [u["role"] for u in extra] == ["district_nurse"] and extra[0]["servers"] == 3
        assert set(figures["quintiles"]) == {"1", "2", "3", "4", "5"}
        assert len(figures["backlog_weekly"]) >= 14
    text = page.read_text(encoding="utf-8")
    assert "Baseline" in text and "Four more nurses" in text
    assert text.count("<svg") == 2 * len(results[0]["neighbourhoods"])
    assert "By deprivation quintile" in text


def test_a_service_nobody_may_do_is_named(published_dir: Path, tmp_path: Path) -> None:
    path = scenario(tmp_path, "No social workers", workers=1)
    text = path.read_text(encoding="utf-8")
    text += '\n[services.social_work]\nroles = ["volunteer"]\nskill = "prescribing"\n'
    path.write_text(text, encoding="utf-8")
    done = run("capacity", "run", "--data", str(published_dir), "--scenario", str(path))
    assert done.returncode == 0, done.stderr
    assert "no one the skill mix allows for social_work" in done.stdout
    result = capacity.run(published_dir, scenario_mod.load(path))
    for figures in result["neighbourhoods"].values():
        assert figures["unstaffed"] == ["social_work"]
        assert figures["services"]["social_work"]["contacts"]["mean"] == 0


def test_replications_give_the_same_answer_in_any_order_and_worker_count(
    published_dir: Path, tmp_path: Path
) -> None:
    one = scenario_mod.load(scenario(tmp_path, "one", workers=1))
    two = one.model_copy(update={"workers": 2})
    a = capacity.run(published_dir, one)
    b = capacity.run(published_dir, two)
    assert a["neighbourhoods"] == b["neighbourhoods"]


def test_demand_only_monte_carlo_for_the_whole_ics(published_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "demand.toml"
    path.write_text(
        'schema = "neighbourhood.capacity.scenario/1"\nname = "Demand"\nmode = "demand"\n'
        "replications = 50\n[levers]\npopulation_growth = [0.0, 0.1]\n",
        encoding="utf-8",
    )
    done = run("capacity", "run", "--data", str(published_dir), "--scenario", str(path), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["results"][0]
    demand = demand_mod.learn(published_dir)
    chosen = scenario_mod.load(path)
    growth = sum(capacity.levers_for(chosen, chosen.seed, r).growth for r in range(50)) / 50
    assert 0.04 < growth < 0.06
    assert set(result["neighbourhoods"]) == set(demand.neighbourhoods)
    for n, figures in result["neighbourhoods"].items():
        observed = sum(
            v for k, v in demand.contacts.items() if k[0] == n and k[4] == "district_nursing"
        )
        dn = figures["contacts"]["district_nursing"]
        # Growth drawn from 0 to 10% a year: the interval holds what was observed grown
        # by the replications' mean growth.
        assert dn["low"] <= observed * (1 + growth) <= dn["high"]
        assert figures["fte_needed"]["district_nursing"]["mean"] > 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ('neighbourhoods = ["ZZ9999"]\n', "neighbourhood ZZ9999 is not in the refresh"),
        ("replications = 0\n", "replications: Input should be greater than or equal to 2"),
    ],
)
def test_bad_scenarios_get_one_line_and_exit_code_2(
    published_dir: Path, tmp_path: Path, edit: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    text = SCENARIO.format(name="bad", nurses=0, workers=1)
    path.write_text(text.replace("replications = 3\n", edit), encoding="utf-8")
    done = run("capacity", "run", "--data", str(published_dir), "--scenario", str(path))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_refresh_without_a_workforce_map_says_what_to_do(
    published_dir: Path, tmp_path: Path
) -> None:
    data = copy_of(published_dir, tmp_path, only_published=True)
    con = open_published(data)
    con.close()
    # A published file from before the workforce map: the table is gone.
    for path in (data / "published").glob("v*.duckdb"):
        db = duckdb.connect(str(path))
        db.execute("DROP TABLE workforce")
        db.close()
    done = run("capacity", "run", "--data", str(data), "--scenario", str(scenario(tmp_path, "x")))
    assert done.returncode == 2
    assert "has no workforce map: ingest partners' workforce extracts" in done.stderr


def test_a_refused_workforce_extract_is_reported_and_nothing_of_it_loaded(
    published_dir: Path, tmp_path: Path
) -> None:
    data = copy_of(published_dir, tmp_path)
    extracts = tmp_path / "extracts"
    shutil.copytree(published_dir / "extracts", extracts, symlinks=False)
    (data / "extracts").unlink()
    (data / "extracts").symlink_to(extracts, target_is_directory=True)
    target = next((extracts / "workforce" / "vcfse").glob("*.csv"))
    lines = target.read_text(encoding="utf-8").splitlines()
    lines.append(lines[1].replace(",Paid,", ",Sometimes,").replace(",V", ",X", 1))
    bad = extracts / "workforce" / "vcfse" / "new.csv"
    bad.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    wh = duckdb.connect(str(data / WAREHOUSE_FILE), read_only=True)
    (before,) = wh.execute("SELECT count(*) FROM workforce").fetchone()  # type: ignore[misc]
    wh.close()
    done = run("ingest", "workforce-vcfse", "--data", str(data), "--json")
    assert done.returncode == 2  # a file was refused
    files = json.loads(done.stdout)["files"]
    refused = [f for f in files if f["status"] == "refused"]
    assert len(refused) == 1
    assert refused[0]["message"].endswith(
        f"line {len(lines)}: column 'Paid or Volunteer': 'Sometimes' is not Paid or Volunteer"
    )
    wh = duckdb.connect(str(data / WAREHOUSE_FILE), read_only=True)
    (after,) = wh.execute("SELECT count(*) FROM workforce").fetchone()  # type: ignore[misc]
    wh.close()
    assert after == before
