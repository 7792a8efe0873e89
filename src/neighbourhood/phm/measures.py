"""Per-person measures, written once in Ibis: frailty (eFI), multimorbidity (count and
Charlson), Bridges to Health segments, the guidelines' five cohorts, and reasons in words.

Everything is measured *as of* one date (the latest event in the warehouse unless
given), so the same input gives the same output (invariant 8).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from neighbourhood.phm.codelists import codelists
from neighbourhood.phm.engines import Source, kept
from neighbourhood.phm.vocabulary import CONDITION_NAMES, SEGMENTS
from neighbourhood.standards import ethnicity

EFI_DEFICITS = 36
# eFI cut-offs (Clegg et al. 2016): fit up to 0.12, mild up to 0.24, moderate up to 0.36.
EFI_CUTS = ((0.12, "fit"), (0.24, "mild"), (0.36, "moderate"))
FRAILTY_MIN_AGE = 65  # the eFI is validated from 65
COMPLEX_MULTIMORBIDITY = 4  # long-term conditions
HIGH_INTENSITY_ED = 5  # A&E attendances in 12 months
ORGAN_FAILURE = ("heart_failure", "copd", "chronic_kidney_disease", "liver_disease")
SERIOUS_DISABILITY = ("learning_disability", "multiple_sclerosis", "parkinsons_disease")


def as_of_date(wh: Source) -> dt.date:
    latest = wh.table("events").start_date.max().execute()
    if latest is None:
        from neighbourhood.errors import UserError

        raise UserError("the warehouse holds no events: run 'neighbourhood ingest' first")
    return latest.date() if isinstance(latest, dt.datetime) else latest


def linked_events(wh: Source) -> ir.Table:
    """Every event with the person it belongs to."""
    index = wh.table("person_index").select("person_id", "source_id", "record_key")
    linked = (
        wh.table("events")
        .join(index, ["source_id", "record_key"])
        .select("person_id", "sector", "activity", "code", "start_date", "cost_gbp")
    )
    return kept(wh, "linked_events", linked)


def person_events(wh: Source, as_of: dt.date) -> ir.Table:
    events = linked_events(wh)
    return events.filter(events.start_date <= as_of)


def _codes(name: str) -> ir.Table:
    return ibis.memtable(codelists()[name].table())


def _conditions(events: ir.Table) -> ir.Table:
    ltc = _codes("long_term_conditions").mutate(
        charlson_weight=lambda t: t.charlson_weight.cast("int64")
    )
    diagnosed = (
        events.filter(events.activity == "diagnosis")
        .join(ltc, events.code == ltc.code)
        .select("person_id", "condition", "charlson_weight")
        .distinct()
    )
    return diagnosed.group_by("person_id").aggregate(
        ltc_count=diagnosed.condition.nunique(),
        charlson=diagnosed.charlson_weight.sum(),
        conditions=diagnosed.condition.collect(distinct=True).sort(),  # same order on every engine
        **{
            f"has_{name}": (diagnosed.condition == name).any()
            for name in (*ORGAN_FAILURE, *SERIOUS_DISABILITY, "cancer", "epilepsy")
        },
    )


def _deficits(events: ir.Table) -> ir.Table:
    deficits = _codes("frailty_deficits")
    found = events.filter(events.activity == "diagnosis").join(
        deficits, events.code == deficits.code
    )
    return found.group_by("person_id").aggregate(deficits=found.deficit.nunique())


def _markers(events: ir.Table) -> ir.Table:
    markers = _codes("cohort_markers")
    found = events.join(markers, events.code == markers.code)
    names = sorted({r["marker"] for r in codelists()["cohort_markers"].rows})
    return found.group_by("person_id").aggregate(
        **{f"marker_{m}": (found.marker == m).any() for m in names}
    )


def _activity(events: ir.Table, as_of: dt.date) -> ir.Table:
    recent = events.filter(events.start_date > as_of - dt.timedelta(days=365))
    # Whole pence, summed as integers: the total does not depend on the order of the sum,
    # which differs between threads and engines (invariant 8).
    pence = (recent.cost_gbp * 100).round().cast("int64")
    return recent.group_by("person_id").aggregate(
        ed_attendances_12m=(recent.activity == "ed_attendance").sum(),
        emergency_admissions_12m=(recent.activity == "emergency_admission").sum(),
        # A person whose recent events carry no unit cost (the teams' own record, say)
        # costs nothing, not an unknown amount.
        cost_12m=pence.sum().fill_null(0) / 100,
        hospital_cost_12m=pence.sum(where=recent.sector == "acute").fill_null(0) / 100,
    )


def _neighbourhoods(wh: Source) -> ir.Table:
    """Each person's registered practice (from their GP records), its PCN and place."""
    index = wh.table("person_index")
    records = wh.table("source_records")
    registered = (
        records.filter(records.practice_ods.notnull())
        .join(index, ["source_id", "record_key"])
        .group_by("person_id")
        .aggregate(practice=lambda t: t.practice_ods.min())  # deterministic if they differ
    )
    orgs = wh.table("organisations").select("ods_code", "name", "parent", "place").distinct()
    practices = orgs.filter(orgs.ods_code.notnull())
    pcns = orgs.select(pcn=orgs.ods_code, neighbourhood_name=orgs.name)
    joined = registered.left_join(practices, registered.practice == practices.ods_code).select(
        "person_id", "practice", neighbourhood="parent", place="place"
    )
    return joined.left_join(pcns, joined.neighbourhood == pcns.pcn).drop("pcn")


def measures(wh: Source, as_of: dt.date) -> ir.Table:
    """One row per linked person, with every measure and the reasons for their cohorts."""
    events = person_events(wh, as_of)
    t = _assemble(
        wh,
        as_of,
        _demographics(wh, wh.table("persons")),
        _neighbourhoods(wh),
        _conditions(events),
        _deficits(events),
        _markers(events),
        _inclusion(wh, events),
        _activity(events, as_of),
    )
    t = t.mutate(
        age_band=_age_band(t.age),
        inclusion_health=ibis.coalesce(t.inclusion_coded, t.inclusion_by_ethnicity),
    ).drop("inclusion_coded", "inclusion_by_ethnicity")
    return _classify(t)


def features(wh: Source, as_of: dt.date) -> ir.Table:
    """What the risk model learns from, as of a date: the part of ``measures`` that
    changes with it (conditions, deficits, markers and activity), without the rest."""
    events = person_events(wh, as_of)
    return _assemble(
        wh,
        as_of,
        _conditions(events),
        _deficits(events),
        _markers(events),
        _activity(events, as_of),
    )


def _assemble(wh: Source, as_of: dt.date, *parts: ir.Table) -> ir.Table:
    """Each person's age and sex as of the date, then each part joined on, with no
    record meaning none (zero, or false)."""
    persons = wh.table("persons")
    age = (
        ibis.literal(as_of).year()
        - persons.date_of_birth.year()
        - ibis.ifelse(
            (persons.date_of_birth.month() > as_of.month)
            | (
                (persons.date_of_birth.month() == as_of.month)
                & (persons.date_of_birth.day() > as_of.day)
            ),
            1,
            0,
        )
    )
    base = persons.select("person_id", "sex", age=age.cast("int64"))
    t = base
    for part in parts:
        joined = t.left_join(part, "person_id")
        t = joined.drop(*[c for c in joined.columns if c.endswith("_right")])
    filled = {
        c: t[c].fill_null(0)
        for c in t.columns
        if c.startswith(("ltc_count", "charlson", "deficits", "ed_", "emergency_", "cost", "hosp"))
    } | {
        c: t[c].fill_null(False)
        for c in t.columns
        if c.startswith(("has_", "marker_")) or c == "reasonable_adjustment"
    }
    return t.mutate(**filled)


AGE_BANDS = ((18, "0-17"), (45, "18-44"), (65, "45-64"), (75, "65-74"), (85, "75-84"))


def _age_band(age: ir.IntegerValue) -> ir.StringValue:
    return ibis.cases(*((age < top, label) for top, label in AGE_BANDS), else_="85+")


def _optional(wh: Source, name: str, schema: dict[str, str]) -> ir.Table:
    """A table a warehouse from an earlier release may lack: empty if so."""
    if name in wh.con.list_tables():
        return wh.table(name)
    return ibis.memtable({c: [] for c in schema}, schema=ibis.schema(schema))


def _demographics(wh: Source, persons: ir.Table) -> ir.Table:
    """Ethnic group, deprivation (IMD of the LSOA of the person's postcode), the national
    data opt-out, and the Gypsy, Roma and Traveller inclusion health group."""
    postcodes = _optional(
        wh, "postcodes", {"postcode": "string", "lsoa": "string", "imd_decile": "int64"}
    )
    postcodes = postcodes.group_by("postcode").aggregate(
        lsoa=postcodes.lsoa.min(), imd_decile=postcodes.imd_decile.min()
    )
    opted = _optional(wh, "opt_outs", {"nhs_number": "string"}).select("nhs_number").distinct()
    opted = opted.mutate(opted_out=ibis.literal(True))
    key = persons.postcode.upper().replace(" ", "")
    # A warehouse linked by an earlier release has no resolved ethnicity: not stated.
    recorded = persons.ethnicity if "ethnicity" in persons.columns else ibis.null().cast("string")
    t = persons.select("person_id", "nhs_number", ethnicity=recorded, _postcode=key)
    t = t.left_join(postcodes, t._postcode == postcodes.postcode)
    t = t.left_join(opted, t.nhs_number == opted.nhs_number)
    return t.select(
        "person_id",
        "lsoa",
        "imd_decile",
        imd_quintile=((t.imd_decile + 1) // 2).cast("int64"),
        ethnic_group=ethnic_group(t.ethnicity),
        opted_out=t.opted_out.fill_null(False),
        inclusion_by_ethnicity=ibis.ifelse(
            t.ethnicity.strip().isin(list(ethnicity.GYPSY_ROMA_TRAVELLER)),
            "Gypsy, Roma and Traveller communities",
            ibis.null().cast("string"),
        ),
    )


def ethnic_group(recorded: ir.StringValue) -> ir.StringValue:
    """The broad ethnic group of an NHS code or an ONS 2021 label (as ethnicity.broad_group)."""
    text = recorded.strip()
    codes = ibis.literal(ethnicity.NHS_CODES, type="map<string, string>")
    prefix = text.split(":")[0].strip()
    return ibis.coalesce(
        codes.get(text.upper()),
        ibis.ifelse(prefix.isin(list(ethnicity.GROUPS)), prefix, None),
        ibis.literal(ethnicity.NOT_STATED),
    )


def _inclusion(wh: Source, events: ir.Table) -> ir.Table:
    """Inclusion health groups from coded records, and the reasonable adjustment flag
    (an active flag carries no date, so every flag counts whatever the as-of date)."""
    codes = _codes("inclusion_health")
    found = events.join(codes, events.code == codes.code)
    coded = found.group_by("person_id").aggregate(
        inclusion_coded=found.group.min()  # one group shown; deterministic
    )
    every = linked_events(wh)
    flagged = every.filter(every.activity == "reasonable_adjustment_flag")
    adjusted = flagged.select("person_id").distinct().mutate(reasonable_adjustment=True)
    return coded.outer_join(adjusted, "person_id").select(
        person_id=ibis.coalesce(coded.person_id, adjusted.person_id),
        inclusion_coded=coded.inclusion_coded,
        reasonable_adjustment=adjusted.reasonable_adjustment,
    )


def _classify(t: ir.Table) -> ir.Table:
    efi = (t.deficits / EFI_DEFICITS).round(3)
    by_score = ibis.cases(*((efi <= cut, label) for cut, label in EFI_CUTS), else_="severe")
    coded = ibis.cases(
        (t.marker_frailty_severe, "severe"),
        (t.marker_frailty_moderate, "moderate"),
        (t.marker_frailty_mild, "mild"),
        else_="fit",
    )
    level = {"fit": 0, "mild": 1, "moderate": 2, "severe": 3}
    rank = ibis.literal(level, type="map<string, int64>")
    worst = ibis.ifelse(rank[by_score] >= rank[coded], by_score, coded)
    frailty = ibis.ifelse(t.age >= FRAILTY_MIN_AGE, worst, None)
    t = t.mutate(efi=ibis.ifelse(t.age >= FRAILTY_MIN_AGE, efi, None), frailty=frailty)
    frail = t.frailty.isin(["moderate", "severe"]).fill_null(False) | t.marker_dementia
    organ = ibis.or_(*(t[f"has_{c}"] for c in ORGAN_FAILURE))
    disability = ibis.or_(*(t[f"has_{c}"] for c in SERIOUS_DISABILITY)) | (
        t.marker_severe_mental_illness
    )
    cohorts = {
        "cohort_frailty": frail,
        "cohort_palliative": t.marker_palliative_care,
        "cohort_complex_ltc": (t.ltc_count >= COMPLEX_MULTIMORBIDITY)
        | ((t.ltc_count >= COMPLEX_MULTIMORBIDITY - 1) & (t.emergency_admissions_12m >= 1))
        | (t.marker_severe_mental_illness & (t.ltc_count >= 2))
        | t.has_learning_disability
        | t.has_multiple_sclerosis
        | t.has_parkinsons_disease,
        "cohort_children": (t.age < 18)
        & (t.has_learning_disability | t.has_epilepsy | (t.ltc_count >= 2)),
        "cohort_high_ed_use": t.ed_attendances_12m >= HIGH_INTENSITY_ED,
    }
    t = t.mutate(**cohorts)
    t = t.mutate(
        complex_needs=ibis.or_(*(t[c] for c in cohorts)),
        cohort_count=sum(t[c].cast("int64") for c in cohorts),
        segment=ibis.cases(
            (t.marker_palliative_care, SEGMENTS[0]),
            (frail, SEGMENTS[1]),
            (organ, SEGMENTS[2]),
            (t.has_cancer, SEGMENTS[3]),
            (disability, SEGMENTS[4]),
            (t.ltc_count >= 1, SEGMENTS[5]),
            else_=SEGMENTS[6],
        ),
    )
    return t.mutate(reasons=_reasons(t))


def _reasons(t: ir.Table) -> ir.StringValue:
    """Why a person is on the list, in words a care coordinator would use."""
    named = ibis.literal(CONDITION_NAMES, type="map<string, string>")
    # As condition_name spells them, so the list and the profile say the same words.
    conditions = t.conditions.map(lambda c: named.get(c, c.replace("_", " "))).join(", ")
    parts = [
        ibis.ifelse(t.marker_palliative_care, "palliative care recorded", None),
        ibis.ifelse(
            t.frailty.isin(["moderate", "severe"]),
            t.frailty + " frailty (coded, or eFI " + t.efi.cast("string") + ")",
            None,
        ),
        ibis.ifelse(t.marker_dementia, "dementia", None),
        ibis.ifelse(
            t.cohort_complex_ltc & (t.ltc_count >= 2),
            t.ltc_count.cast("string") + " long-term conditions: " + conditions,
            ibis.ifelse(t.cohort_complex_ltc, "long-term condition: " + conditions, None),
        ),
        ibis.ifelse(
            t.cohort_children,
            "a child or young person with complex needs (age " + t.age.cast("string") + ")",
            None,
        ),
        ibis.ifelse(
            t.ed_attendances_12m >= HIGH_INTENSITY_ED,
            t.ed_attendances_12m.cast("string") + " A&E attendances in the last 12 months",
            None,
        ),
        ibis.ifelse(
            t.emergency_admissions_12m >= 2,
            t.emergency_admissions_12m.cast("string")
            + " emergency admissions in the last 12 months",
            None,
        ),
    ]
    return ibis.literal("; ").join(parts)
