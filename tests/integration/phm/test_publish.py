"""Publish: identifiable tables for direct care, a pseudonymised one for planning."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
from pathlib import Path

import pytest

from neighbourhood.errors import UserError
from neighbourhood.phm.publish import (
    KEY_VARIABLE,
    key_path,
    open_published,
    publish,
    published_versions,
)
from neighbourhood.phm.refresh import open_current
from neighbourhood.phm.versions import KILL_AT_VARIABLE, STAGES
from tests.support.synthetic import copy_of

IDENTIFIERS = {"person_id", "nhs_number", "given_name", "family_name", "date_of_birth", "postcode"}


@pytest.fixture(scope="module")
def published(refreshed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = copy_of(refreshed, tmp_path_factory.mktemp("published"))
    publish(data)
    return data


@pytest.fixture
def own_published(published: Path, tmp_path: Path) -> Path:
    """This test's own copy of the published ICS, to publish again."""
    return copy_of(published, tmp_path)


def test_planning_is_pseudonymised_with_a_key_kept_apart(published: Path) -> None:
    with open_published(published) as con:
        columns = {r[0] for r in con.execute("DESCRIBE planning_people").fetchall()}
        pseudonyms = [r[0] for r in con.execute("SELECT pseudo_id FROM planning_people").fetchall()]
    assert not columns & IDENTIFIERS
    assert len(set(pseudonyms)) == len(pseudonyms)
    key = bytes.fromhex(key_path(published).read_text().strip())
    assert oct(key_path(published).stat().st_mode & 0o777) == "0o600"
    with open_current(published) as con:
        ids = [r[0] for r in con.execute("SELECT person_id FROM person_measures").fetchall()]
    expected = {hmac.new(key, p.encode(), hashlib.sha256).hexdigest()[:32] for p in ids}
    assert set(pseudonyms) <= expected  # a keyed hash of the person id, nothing else
    assert not set(pseudonyms) & set(ids)
    for stored in [published / "warehouse.duckdb", *published.glob("*/v*.duckdb")]:
        assert key.hex().encode() not in stored.read_bytes()  # the key is nowhere else


def test_opted_out_people_are_in_direct_care_but_not_in_planning(published: Path) -> None:
    with open_published(published) as con:
        opted = con.execute("SELECT count(*) FROM person_profiles WHERE opted_out").fetchone()
        everyone = con.execute("SELECT count(*) FROM person_profiles").fetchone()
        planning = con.execute("SELECT count(*) FROM planning_people").fetchone()
    assert opted and everyone and planning and opted[0] > 0
    assert planning[0] == everyone[0] - opted[0]


def test_the_case_finding_list_is_published_with_who_each_person_is(published: Path) -> None:
    with open_current(published) as con:
        listed = con.execute("SELECT count(*) FROM case_finding").fetchone()
    with open_published(published) as con:
        rows = con.execute(
            "SELECT count(*), count(nhs_number), count(family_name), count(reasons), "
            "count(DISTINCT neighbourhood || rank) FROM case_finding"
        ).fetchone()
        timeline = con.execute(
            "SELECT count(DISTINCT sector), count(*) FROM timeline t "
            "JOIN case_finding c USING (person_id)"
        ).fetchone()
    assert rows and listed and rows[0] == listed[0]
    assert rows[2] == rows[0] and rows[3] == rows[0] and rows[4] == rows[0]
    assert rows[1] > 0.9 * rows[0]  # NHS numbers, where a valid one was sent
    assert timeline and timeline[0] >= 5 and timeline[1] > 10 * rows[0]  # every sector


def test_the_same_key_gives_the_same_pseudonyms_and_another_key_others(
    own_published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_published(own_published) as con:
        before = con.execute("SELECT pseudo_id FROM planning_people ORDER BY 1").fetchall()
    publish(own_published)
    with open_published(own_published) as con:
        again = con.execute("SELECT pseudo_id FROM planning_people ORDER BY 1").fetchall()
    assert again == before
    other = tmp_path / "other.key"
    other.write_text("ab" * 32)
    with monkeypatch.context() as patched:
        patched.setenv(KEY_VARIABLE, str(other))
        publish(own_published)
    with open_published(own_published) as con:
        rekeyed = con.execute("SELECT pseudo_id FROM planning_people ORDER BY 1").fetchall()
    assert not set(rekeyed) & set(before)
    publish(own_published)  # back to the data directory's own key


def test_publish_before_a_refresh_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="run 'neighbourhood refresh' first"):
        publish(tmp_path)


@pytest.mark.parametrize("stage", STAGES)
def test_a_publish_killed_at_any_stage_leaves_the_previous_one(
    own_published: Path, stage: str
) -> None:
    before = published_versions(own_published).current()
    done = subprocess.run(
        [sys.executable, "-m", "neighbourhood.cli.app", "publish", "--data", str(own_published)],
        env={**os.environ, KILL_AT_VARIABLE: stage},
        capture_output=True,
        check=False,
    )
    assert done.returncode == -9
    after = published_versions(own_published).current()
    assert before and after
    if stage == "switched":
        assert after["version"] == before["version"] + 1
    else:
        assert after == before
    with open_published(own_published) as con:  # whatever is current opens and is complete
        assert con.execute("SELECT count(*) FROM planning_people").fetchone() != (0,)
    publish(own_published)  # the next run clears any debris and succeeds
    assert not list((own_published / "published").glob("*.building*"))


def test_medicines_from_every_partner_are_listed_and_polypharmacy_counted(
    refreshed: Path, tmp_path: Path
) -> None:
    """Ten current medicines make polypharmacy; one stopped and one whose period ended are
    listed but not current; a medicine recorded twice is one medicine."""
    import datetime as dt
    import shutil

    import duckdb

    from neighbourhood.phm.refresh import current_info

    data = tmp_path / "data"
    shutil.copytree(
        refreshed, data, ignore=shutil.ignore_patterns("extracts", "truth", "published")
    )
    as_of = dt.date.fromisoformat(current_info(data)["as_of"])  # type: ignore[index]
    started = as_of - dt.timedelta(days=30)
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        (person, source, key), (other, other_source, other_key) = con.execute(
            "SELECT DISTINCT ON (person_id) person_id, source_id, record_key FROM person_index "
            "ORDER BY person_id, source_id, record_key LIMIT 2"
        ).fetchall()
        rows = [(source, key, f"3{n:08d}", started, None, "active") for n in range(10)]
        rows += [
            (other_source, other_key, "300000009", started, None, "active"),
            (source, key, "300000009", started + dt.timedelta(days=7), None, "active"),
            (source, key, "400000001", started, None, "stopped"),
            (source, key, "400000002", started, as_of - dt.timedelta(days=1), "active"),
        ]
        con.executemany(
            "INSERT INTO events (source_id, record_key, activity, code, code_system, "
            "start_date, end_date, setting, sector) VALUES "
            "(?, ?, 'medication', ?, 'http://snomed.info/sct', ?, ?, ?, 'general_practice')",
            rows,
        )
    publish(data)
    with open_published(data) as con:
        profiles = con.execute(
            "SELECT person_id, medicines_current, polypharmacy FROM person_profiles "
            "WHERE person_id IN (?, ?) ORDER BY person_id",
            [person, other],
        ).fetchall()
        listed = con.execute(
            "SELECT code, current, last_recorded FROM medicines WHERE person_id = ? ORDER BY code",
            [person],
        ).fetchall()
    assert profiles == [(person, 10, True), (other, 1, False)]
    assert len(listed) == 12
    assert [(c, current) for c, current, _ in listed[-2:]] == [
        ("400000001", False),
        ("400000002", False),
    ]
    assert listed[9] == ("300000009", True, started + dt.timedelta(days=7))
