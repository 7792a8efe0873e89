"""The workforce map and capacity scenarios pages, for partnership leads and analysts."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from neighbourhood.capacity import results, scenario
from neighbourhood.capacity import run as capacity
from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.roles import Role
from neighbourhood.phm.publish import open_published
from tests.support import factories
from tests.support.synthetic import copy_of

pytestmark = pytest.mark.django_db
SCENARIO = """
schema = "neighbourhood.capacity.scenario/1"
name = "{name}"
replications = 2
days = 60
warm_up_days = 7
workers = 1
mode = "{mode}"
[staff]
district_nurse = {nurses}
"""


def signed_in(role: str) -> tuple[Client, Any]:
    professional = factories.professional(f"user-{role}", role=role, teams=[])
    client = Client()
    client.force_login(professional.user)
    return client, professional


def test_the_workforce_map_by_role_sector_skill_and_neighbourhood(published_dir: Path) -> None:
    client, lead = signed_in(Role.PARTNERSHIP_LEAD)
    con = open_published(published_dir)
    try:
        (int_fte,) = con.execute(  # type: ignore[misc]
            "SELECT round(sum(fte * int_share) FILTER (WHERE NOT vacancy), 1) FROM workforce "
            "WHERE team = 'ZU0001' AND role = 'district_nurse'"
        ).fetchone()
        (posts,) = con.execute("SELECT count(*) FROM workforce").fetchone()  # type: ignore[misc]
    finally:
        con.close()
    page = client.get(reverse("workforce-map"))
    assert page.status_code == 200
    assert sum(r["posts"] for r in page.context["rows"]) == posts
    assert "District or community nurse" in page.content.decode()
    assert b'<svg class="care-chart" role="img"' in page.content
    one = client.get(reverse("workforce-map"), {"team": "ZU0001", "by": "role"})
    nurses = next(r for r in one.context["rows"] if r["grp"] == "district_nurse")
    assert nurses["int_fte"] == int_fte
    by_sector = client.get(reverse("workforce-map"), {"by": "sector"})
    assert {r["label"] for r in by_sector.context["rows"]} >= {
        "Community health",
        "General practice",
        "Adult social care",
        "Voluntary, community, faith and social enterprise",
    }
    by_skill = client.get(reverse("workforce-map"), {"by": "skill"})
    assert "Wound care" in {r["label"] for r in by_skill.context["rows"]}
    odd = client.get(reverse("workforce-map"), {"team": "<script>", "by": "salary"})
    assert odd.status_code == 200 and odd.context["by"] == "role" and odd.context["team"] == ""
    assert AuditEvent.objects.filter(action="view_workforce_map", actor=lead.user).count() == 5


def test_scenarios_side_by_side_and_mixed_kinds_refused(
    published_dir: Path, tmp_path: Path, settings: Any
) -> None:
    data = copy_of(published_dir, tmp_path, only_published=True)
    settings.DATA_DIR = data
    kept = []
    for name, mode, nurses in (("Now", "simulate", 0), ("More nurses", "simulate", 3),
                               ("Demand", "demand", 0)):  # fmt: skip
        text = SCENARIO.format(name=name, mode=mode, nurses=nurses)
        result = capacity.run(published_dir, scenario.parse(tomllib.loads(text)))
        kept.append(results.save(data, result).stem)
    client, _ = signed_in(Role.ANALYST)
    listing = client.get(reverse("capacity-scenarios"))
    assert sorted(r["scenario"] for r in listing.context["runs"]) == [
        "Demand",
        "More nurses",
        "Now",
    ]
    page = client.get(reverse("capacity-scenarios"), {"run": kept[:2], "neighbourhood": "ZU0002"})
    assert page.status_code == 200
    compared = page.context["compared"]
    assert compared["names"] == ["Now", "More nurses"]
    assert page.context["neighbourhood"] == "ZU0002"
    labels = [label for label, _ in compared["utilisation"]]
    assert "District or community nurse (scenario)" in labels
    html = page.content.decode()
    assert html.count('<svg class="care-chart"') == 3  # utilisation, backlog, quintiles
    assert "Quintile" in html and "most deprived" in html
    mixed = client.get(reverse("capacity-scenarios"), {"run": [kept[0], kept[2]]})
    assert "Compare simulations with simulations" in mixed.content.decode()
    assert mixed.context["compared"] is None
    demand = client.get(reverse("capacity-scenarios"), {"run": kept[2]})
    assert demand.context["compared"]["mode"] == "demand"
    unknown = client.get(reverse("capacity-scenarios"), {"run": ["../../etc/passwd", "x"]})
    assert unknown.status_code == 200 and unknown.context["chosen"] == []
    # A run kept by an earlier version, without a figure the page draws: said, not a 500.
    old = data / "capacity" / f"{kept[0]}.json"
    figures = json.loads(old.read_text(encoding="utf-8"))
    for n in figures["neighbourhoods"].values():
        del n["quintiles"]
    old.write_text(json.dumps(figures), encoding="utf-8")
    earlier = client.get(reverse("capacity-scenarios"), {"run": kept[:2]})
    assert earlier.status_code == 200
    assert "kept by an earlier version" in earlier.content.decode()


def test_care_staff_cannot_open_the_planning_pages(published_dir: Path) -> None:
    client, _ = signed_in(Role.CARE_COORDINATOR)
    assert client.get(reverse("workforce-map")).status_code == 403
    assert client.get(reverse("capacity-scenarios")).status_code == 403
