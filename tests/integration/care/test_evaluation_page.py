"""The Evaluation page, and the planning page's chart and readable table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.roles import Role
from neighbourhood.evaluate import protocol, results
from neighbourhood.evaluate.run import evaluate
from neighbourhood.evaluate.synthetic import synthetic
from neighbourhood.synth.options import Rollout
from tests.support import factories

pytestmark = pytest.mark.django_db


def signed_in(role: str) -> tuple[Client, Any]:
    professional = factories.professional(f"user-{role}", role=role, teams=[])
    client = Client()
    client.force_login(professional.user)
    return client, professional


@pytest.fixture(scope="module")
def evaluated() -> dict[str, Any]:
    chosen = protocol.Protocol.model_validate(
        {
            "schema": protocol.SCHEMA,
            "name": "Emergency use",
            "outcomes": ["emergency_admissions", "home_91_days_after_reablement"],
            "subgroups": ["imd_quintile", "sex"],
        }
    )
    return evaluate(synthetic(12_000, 3, Rollout(effect=0.8), 400), chosen)


def test_an_evaluation_read_out_with_its_charts(
    evaluated: dict[str, Any], tmp_path: Path, settings: Any
) -> None:
    settings.DATA_DIR = tmp_path
    client, lead = signed_in(Role.PARTNERSHIP_LEAD)
    empty = client.get(reverse("evaluation"))
    assert empty.status_code == 200 and b"No evaluations yet" in empty.content
    kept = results.save(tmp_path, evaluated)
    page = client.get(reverse("evaluation"))
    assert page.status_code == 200 and page.context["chosen_id"] == kept.stem
    html = page.content.decode()
    assert "Emergency use" in html and evaluated["protocol"]["digest"][:16] in html
    assert 'class="care-biased">Before and after (biased: regression to the mean)' in html
    assert html.count('<svg class="care-chart" role="img"') == 3  # event study, trend, forest
    assert "Not available: no reablement episodes" in html
    assert "Planted (synthetic truth)" in html
    shown = page.context["shown"]["outcomes"][0]
    assert {key for _, key, _ in shown["designs"]} == {"matched", "staggered_did", "its", "naive"}
    assert all(-12 <= p["month"] <= 24 for p in shown["event_study"])
    gone = client.get(reverse("evaluation"), {"run": "20990101T000000-0000000000000000"})
    assert gone.status_code == 200 and b"no longer kept" in gone.content
    odd = client.get(reverse("evaluation"), {"run": "<script>"})
    assert odd.status_code == 200 and b"<script>" not in odd.content
    assert AuditEvent.objects.filter(action="view_evaluation", actor=lead.user).count() == 4


def test_only_planning_roles_open_it(tmp_path: Path, settings: Any) -> None:
    settings.DATA_DIR = tmp_path
    client, _ = signed_in(Role.CARE_COORDINATOR)
    assert client.get(reverse("evaluation")).status_code == 403
    anonymous = Client().get(reverse("evaluation"))
    assert anonymous.status_code == 302


def test_the_planning_page_charts_its_groups_and_filters_a_neighbourhood(
    published_dir: Path,
) -> None:
    client, _ = signed_in(Role.ANALYST)
    page = client.get(reverse("planning"), {"by": "age_band"})
    assert page.status_code == 200
    names = page.context["neighbourhoods"]
    assert len(names) >= 2 and page.context["chart"]
    assert b'<svg class="care-chart" role="img"' in page.content
    assert b'class="care-table-wrap care-table-scroll"' in page.content
    one = client.get(reverse("planning"), {"by": "age_band", "neighbourhood": names[0]})
    assert {r["neighbourhood"] for r in one.context["table"]} == {names[0]}
    # The chart's shares come from the counts shown, summed over the rows of each group.
    for group, (complex_share, _) in one.context["chart"]:
        rows = [r for r in one.context["table"] if r["group"] == group]
        people = sum(r["people"] or 0 for r in rows)
        complex_needs = sum(r["complex_needs"] or 0 for r in rows)
        assert complex_share == round(100 * complex_needs / people, 1)
    odd = client.get(reverse("planning"), {"neighbourhood": "nowhere"})
    assert odd.status_code == 200 and odd.context["neighbourhood"] == ""
