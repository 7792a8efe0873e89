"""Partners' workforce extracts, in their own shapes, as one table; a bad one refused
whole with one line naming the line, the column and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from neighbourhood.capacity import workforce
from neighbourhood.ingest.files import FileRefused
from neighbourhood.ingest.reference import read_table

NHS = (
    "Employee Number,Position Number,Organisation Code,Team,Base,Occupation Code,Staff Group,"
    "Job Role,AfC Band,FTE,Contract Type,INT Share,Skills,Vacancy,Cost Centre\r\n"
    "E1,P1,zc1,ZU0001,Riverside Health Centre,N1C,Nursing and Midwifery Registered,"
    "District Nurse,6,0.8,Permanent,100%,Wound care; catheter care,N,CC1\r\n"
    ",P2,ZC1,ZU0001,,N1C,Nursing and Midwifery Registered,Community Nurse,5,1,,1,,Y,CC1\r\n"
    "E3,P3,ZC1,ZU0002,,S2P,Allied Health Professionals,Physiotherapist,8a,1,Bank,0.5,"
    "Falls assessment,N,CC2\r\n"
)
GP = (
    "Practice Code,PCN Code,Staff ID,Staff Group,Staff Role,ARRS,Contracted Hours,INT Share,"
    "Skills,Vacancy\r\n"
    "Z00101,ZU0001,S1,GP,Salaried GP,N,30,1,Prescribing,N\r\n"
    "Z00101,ZU0001,S2,Direct Patient Care,Social Prescribing Link Worker,Y,37.5,1,"
    "Social prescribing,N\r\n"
)
ASC = (
    "LOCALESTID,UNIQUEWORKERID,MAINJOBROLE,EMPLSTATUS,ZEROHRCONT,CONTHOURS,AVGHOURS,TEAM,"
    "INTSHARE,SKILLS,VACANCY\r\n"
    "ZP1,W1,6,1,0,37,,ZU0001,1,Social work assessment,0\r\n"
    "ZP1,W2,8,3,1,0,18.5,ZU0001,0.3,Personal care,0\r\n"
)
VCFSE = (
    "Organisation Code,Person Ref,Role,Paid or Volunteer,Hours per Week,Neighbourhood,INT Share,"
    "Skills,Vacancy\r\n"
    "ZV011,V1,Link Worker,Paid,30,ZU0001,1,Social prescribing,N\r\n"
    "ZV011,V2,Befriender,Volunteer,4,ZU0001,1,,N\r\n"
)


def parse(tmp_path: Path, text: str, fmt: str, sector: str = "community", bom: bool = False):  # type: ignore[no-untyped-def]
    path = tmp_path / "staff.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    header, rows = read_table(path)
    return workforce.parse(path, fmt, header, rows, sector)


def test_every_workforce_format_the_registry_takes_has_a_shape() -> None:
    assert tuple(workforce.SHAPES) == workforce.FORMATS


def test_nhs_staff_records_with_a_byte_order_mark_and_an_extra_column(tmp_path: Path) -> None:
    out = parse(tmp_path, NHS, "workforce-nhs-csv", bom=True)
    assert out["role"] == ["district_nurse", "district_nurse", "physiotherapist"]
    assert out["employer"] == ["ZC1", "ZC1", "ZC1"]
    assert out["hours"] == [30.0, 37.5, 37.5]
    assert out["fte"] == [0.8, 1.0, 1.0]
    assert out["int_share"] == [1.0, 1.0, 0.5]
    assert out["skills"] == ["catheter_care;wound_care", "", "falls_assessment"]
    assert out["vacancy"] == [False, True, False]
    assert out["staff_ref"] == ["E1", None, "E3"]
    assert out["registration"] == ["NMC", "NMC", "HCPC"]
    assert out["contract"] == ["permanent", "permanent", "bank"]
    assert out["sector"] == ["community"] * 3
    assert out["line"] == [2, 3, 4]


def test_headers_in_another_case_and_spacing_are_the_same_columns(tmp_path: Path) -> None:
    head, *rows = VCFSE.split("\r\n")
    shouted = head.upper().replace(" ", "_")
    out = parse(tmp_path, "\r\n".join([shouted, *rows]), "workforce-vcfse-csv")
    assert out["role"] == ["social_prescribing_link_worker", "volunteer"]


def test_general_practice_hours_are_whole_time_equivalents_of_37_5(tmp_path: Path) -> None:
    out = parse(tmp_path, GP, "workforce-gp-csv")
    assert out["role"] == ["gp", "social_prescribing_link_worker"]
    assert out["fte"] == [0.8, 1.0]
    assert out["band"] == [None, "ARRS"]
    assert out["sector"] == ["general_practice"] * 2
    assert out["team"] == ["ZU0001", "ZU0001"]  # the PCN's code, when no team is given


def test_adult_social_careread_tables_asc_wds_codes_and_zero_hours_averages(tmp_path: Path) -> None:
    out = parse(tmp_path, ASC, "workforce-asc-csv")
    assert out["role"] == ["social_worker", "care_worker"]
    assert out["contract"] == ["permanent", "zero_hours"]
    assert out["hours"] == [37.0, 18.5]
    assert out["registration"] == ["SWE", None]


def test_vcfse_staff_and_volunteers(tmp_path: Path) -> None:
    out = parse(tmp_path, VCFSE, "workforce-vcfse-csv")
    assert out["role"] == ["social_prescribing_link_worker", "volunteer"]
    assert out["contract"] == ["permanent", "volunteer"]
    assert out["fte"] == [0.8, round(4 / 37.5, 4)]


@pytest.mark.parametrize(
    ("fmt", "text", "line", "message"),
    [
        (
            "workforce-nhs-csv",
            NHS.replace(",6,0.8,", ",11,0.8,"),
            2,
            "column 'AfC Band': '11' is not an Agenda for Change band",
        ),
        (
            "workforce-nhs-csv",
            NHS.replace("District Nurse", "Wizard"),
            2,
            "column 'Job Role': 'Wizard' is not an ESR job role this map knows (expected one of:",
        ),
        (
            "workforce-nhs-csv",
            NHS.replace(",1,,1,,Y,", ",1,,1,,Maybe,"),
            3,
            "column 'Vacancy': 'maybe' is not Y or N",
        ),
        (
            "workforce-nhs-csv",
            NHS.replace(",0.8,", ",zero,"),
            2,
            "column 'FTE': 'zero' is not a whole-time equivalent",
        ),
        (
            "workforce-nhs-csv",
            NHS.replace("100%", "150%"),
            2,
            "column 'INT Share': 150% is out of range",
        ),
        (
            "workforce-nhs-csv",
            NHS.replace("Wound care; catheter care", "Juggling"),
            2,
            "column 'Skills': 'Juggling' is not a skill on the controlled list",
        ),
        (
            "workforce-gp-csv",
            GP.replace(",GP,Salaried", ",Doctors,Salaried"),
            2,
            "column 'Staff Group': 'Doctors' is not a GP census staff group",
        ),
        (
            "workforce-asc-csv",
            ASC.replace("W1,6,", "W1,99,"),
            2,
            "column 'MAINJOBROLE': '99' is not an ASC-WDS main job role code",
        ),
        (
            "workforce-asc-csv",
            ASC.replace("ZP1,W1", "ZP1,"),
            2,
            "column 'UNIQUEWORKERID': empty: a filled post needs its staff reference",
        ),
        (
            "workforce-vcfse-csv",
            VCFSE.replace("Paid,30", "Sometimes,30"),
            2,
            "column 'Paid or Volunteer': 'Sometimes' is not Paid or Volunteer",
        ),
        (
            "workforce-vcfse-csv",
            VCFSE + "ZV011,V1,Link Worker,Paid,30,ZU0001,1,,N\r\n",
            4,
            "the same person, post and team as line 2",
        ),
    ],
)
def test_a_bad_extract_is_refused_whole_naming_line_and_column(
    tmp_path: Path, fmt: str, text: str, line: int, message: str
) -> None:
    with pytest.raises(FileRefused) as caught:
        parse(tmp_path, text, fmt)
    assert caught.value.line == line
    assert message in caught.value.message, caught.value.message


def test_more_than_one_problem_is_counted(tmp_path: Path) -> None:
    text = NHS.replace(",6,0.8,", ",11,0.8,").replace(",8a,1,", ",12,1,")
    with pytest.raises(FileRefused, match=r"\(and 1 more problems\)"):
        parse(tmp_path, text, "workforce-nhs-csv")


def test_another_shape_is_named_by_what_its_header_lacks(tmp_path: Path) -> None:
    with pytest.raises(FileRefused) as caught:
        parse(tmp_path, GP, "workforce-nhs-csv")
    assert "not a NHS staff record extract: the header lacks Employee Number" in str(caught.value)


def test_a_header_without_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match="has a header but no rows"):
        parse(tmp_path, VCFSE.splitlines()[0] + "\r\n", "workforce-vcfse-csv")
