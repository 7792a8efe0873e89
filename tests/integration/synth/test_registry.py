"""The source registry synth writes: every feed it makes declared, none twice."""

from __future__ import annotations

from pathlib import Path

from neighbourhood import registry
from neighbourhood.synth import SynthOptions, run_synth
from tests.support.synthetic import synthesise


def test_synth_declares_every_feed_it_writes(tmp_path: Path) -> None:
    synthesise(tmp_path, 300)
    sources = registry.load(tmp_path)
    feeds = {p.name for p in (tmp_path / "extracts").iterdir() if not p.name.startswith(".")} - {
        "reference",
        "national",
        "workforce",
        "manifest.json",
    }
    reference = {"reference-organisations", "reference-postcodes", "national-data-opt-out"}
    staff = {
        f"workforce-{p.name.replace('_', '-')}"
        for p in (tmp_path / "extracts" / "workforce").iterdir()
    }
    assert staff == {
        "workforce-community",
        "workforce-mental-health",
        "workforce-acute",
        "workforce-general-practice",
        "workforce-social-care",
        "workforce-vcfse",
    }
    assert {s.id for s in sources} == feeds | reference | staff
    for source in sources:
        if source.format in registry.WORKFORCE_FORMATS:
            assert source.location(tmp_path).is_dir() and any(source.location(tmp_path).iterdir())
    declared = {s.location(tmp_path) for s in sources}
    assert tmp_path / "extracts" / "national" / "national_data_opt_out.csv" in declared
    assert tmp_path / "extracts" / "reference" / "postcodes.csv" in declared
    assert all(s.agreement for s in sources)


def test_synth_into_the_same_data_directory_twice_replaces_its_feeds(tmp_path: Path) -> None:
    for out in ("extracts", "elsewhere"):
        run_synth(
            SynthOptions(
                people=200, seed=1, out=tmp_path / out, truth=tmp_path / "truth", registry=tmp_path
            )
        )
    sources = registry.load(tmp_path)
    assert len({s.id for s in sources}) == len(sources)
    assert all(s.path.startswith("elsewhere/") for s in sources if s.format != "organisations-csv")
