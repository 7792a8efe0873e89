"""Urgent care for the demonstration: three virtual wards sized to the published
population, a morning's queue at the single point of access (calls waiting, one being
triaged, responses on the board in each state, a step-up and a step-down on the wards
with observations, one conveyance the service could have prevented), and two weeks of
responses behind them for the measures; all through the same actions, and audit trail,
as the pages use."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.teams.models import Organisation, Professional, Sector, Team
from neighbourhood.care.urgent import actions
from neighbourhood.care.urgent.models import (
    BEDS_PER_100K,
    Acuity,
    Call,
    Need,
    Outcome,
    Response,
    Source,
    Stay,
    Ward,
    WardPathway,
)

SHARES = {WardPathway.FRAILTY: 0.5, WardPathway.RESPIRATORY: 0.3, WardPathway.HEART_FAILURE: 0.2}
CALLERS = {
    Source.AMBULANCE: "Paramedic on scene",
    Source.NHS111: "NHS 111 clinical adviser",
    Source.GP: "Duty GP",
    Source.CARE_HOME: "Senior carer, Elm Lodge care home",
    Source.COMMUNITY: "District nurse",
    Source.SELF: "Daughter",
}


def wards(organisation: Organisation) -> list[Ward]:
    everyone = sum(published.population().values())
    beds = BEDS_PER_100K[0] * everyone / 100_000 * 1.1  # a little above the planning floor
    made = []
    for pathway, share in SHARES.items():
        ward, _ = Ward.objects.get_or_create(
            name=f"{pathway.label} virtual ward",
            defaults={
                "pathway": pathway,
                "organisation": organisation,
                "beds": max(2, round(beds * share)),
            },
        )
        made.append(ward)
    return made


def _call(
    spa: Professional, person_id: str, source: str, need: str, details: str, minutes_ago: int
) -> Call:
    return actions.take_call(
        actions.Intake(
            source=source,
            caller=CALLERS[Source(source)],
            need=need,
            details=details,
            callback="0300 123 4567",
            person_id=person_id,
            received_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        ),
        spa,
    )


def _triaged(spa: Professional, call: Call, decision: actions.Decision) -> Call:
    held = actions.claim_call(call_id=call.pk, version=call.version, by=spa)
    return actions.triage(call_id=held.pk, version=held.version, decision=decision, by=spa)


def _observe(
    stay: Stay,
    by: Professional,
    hours_ago: float,
    rr: int,
    spo2: int,
    sbp: int,
    pulse: int,
    temp: str,
    acvpu: str = "A",
    oxygen: bool = False,
) -> None:
    actions.observe(
        stay=stay,
        readings={
            "respiration_rate": rr,
            "spo2": spo2,
            "scale2": False,
            "on_oxygen": oxygen,
            "systolic": sbp,
            "pulse": pulse,
            "consciousness": acvpu,
            "temperature": Decimal(temp),
        },
        taken="remote" if hours_ago > 6 else "visit",
        taken_at=timezone.now() - dt.timedelta(hours=hours_ago),
        by=by,
    )


def seed(teams: list[Team], spa: Professional, responder: Professional) -> dict[str, int]:
    """Seed once: an organisation whose single point of access has calls keeps them."""
    if Call.objects.filter(organisation=spa.organisation).exists():
        return {}
    community = (
        Organisation.objects.filter(sector=Sector.COMMUNITY).order_by("ods_code").first()
        or spa.organisation
    )
    made_wards = {w.pathway: w for w in wards(community)}
    team = teams[0]
    enrolled = set(
        Enrolment.objects.filter(ended_at__isnull=True).values_list("person_id", flat=True)
    )
    listed = [str(r["person_id"]) for r in published.listed(team.neighbourhood.code)]
    # People in the caseload first (their plans show beside the call), then others listed,
    # then others who live there.
    people = [p for p in listed if p in enrolled][:4] + [p for p in listed if p not in enrolled]
    people += [p for p in published.residents(team.neighbourhood.code, 80) if p not in people]
    people = people[:44]
    if len(people) < 14:
        return {}

    def ucr() -> actions.Decision:
        return actions.Decision(
            acuity=Acuity.TWO_HOURS,
            outcome=Outcome.UCR,
            team=team,
            note="Urgent community response: assess at home",
        )

    counts = {"calls": 0, "responses": 0, "stays": 0}
    # Two weeks of responses, for the measures: most on time, some not.
    rng = random.Random(25)
    later = people[14:]
    for day in range(13, 0, -1):
        for slot in range(3):
            person = later[(day * 3 + slot) % len(later)] if later else people[0]
            received = timezone.localtime(timezone.now() - dt.timedelta(days=day)).replace(
                hour=9 + 3 * slot, minute=rng.randrange(60)
            )
            call = actions.take_call(
                actions.Intake(
                    source=rng.choice(list(Source)),
                    caller="Caller",
                    need=rng.choice([Need.FALL, Need.FRAILTY, Need.DELIRIUM, Need.CATHETER]),
                    details="Earlier call",
                    person_id=person,
                    received_at=received,
                ),
                spa,
            )
            done = _triaged(spa, call, ucr())
            response = Response.objects.get(call=done)
            minutes = rng.choice([35, 50, 70, 85, 95, 110, 140])
            late = (
                "Two responders off sick; the nearest was on another visit" if minutes > 120 else ""
            )
            visited = actions.record_visit(
                response_id=response.pk,
                version=response.version,
                by=responder,
                visited_at=received + dt.timedelta(minutes=minutes),
                late_reason=late,
            )
            actions.close_response(
                response_id=visited.pk,
                version=visited.version,
                by=responder,
                after=rng.choice(
                    [Response.After.HOME, Response.After.REFERRED, Response.After.HOME]
                ),
            )
            # Seeded today, as if it had happened then: triaged minutes after the call.
            Call.objects.filter(pk=done.pk).update(
                claimed_at=received + dt.timedelta(minutes=2),
                triaged_at=received + dt.timedelta(minutes=6),
            )
            Response.objects.filter(pk=visited.pk).update(
                closed_at=received + dt.timedelta(minutes=minutes + 50)
            )
            counts["calls"] += 1
            counts["responses"] += 1
    # This morning's queue, oldest first.
    closed = _call(
        spa,
        people[0],
        Source.GP,
        Need.FALL,
        "Fell in the kitchen overnight, no injury found, cannot get up unaided",
        200,
    )
    closed = _triaged(spa, closed, ucr())
    response = Response.objects.get(call=closed)
    visited = actions.record_visit(
        response_id=response.pk,
        version=response.version,
        by=responder,
        visited_at=closed.received_at + dt.timedelta(minutes=140),
        late_reason="Heavy traffic on the ring road; the call came as the team changed shift",
    )
    actions.close_response(
        response_id=visited.pk, version=visited.version, by=responder, after=Response.After.HOME
    )
    conveyed = _call(
        spa,
        people[4],
        Source.AMBULANCE,
        Need.FALL,
        "Found on the floor by a neighbour; alert, bruised hip, walking with help",
        170,
    )
    _triaged(
        spa,
        conveyed,
        actions.Decision(
            acuity=Acuity.TWO_HOURS,
            outcome=Outcome.CONVEY,
            convey_reason="No urgent community response capacity free within two hours",
        ),
    )
    stepped = _call(
        spa,
        people[1],
        Source.COMMUNITY,
        Need.FRAILTY,
        "More breathless and confused over two days; eating little",
        130,
    )
    _triaged(
        spa,
        stepped,
        actions.Decision(
            acuity=Acuity.SAME_DAY,
            outcome=Outcome.VIRTUAL_WARD,
            ward=made_wards[WardPathway.FRAILTY],
            note="Step-up to the frailty virtual ward: daily visits",
        ),
    )
    stay = Stay.objects.get(call=stepped)
    _observe(stay, responder, 0, 22, 94, 104, 98, "37.9")
    on_time = _call(
        spa,
        people[2],
        Source.CARE_HOME,
        Need.CATHETER,
        "Catheter blocked since the morning; in discomfort",
        95,
    )
    on_time = _triaged(spa, on_time, ucr())
    response = Response.objects.get(call=on_time)
    actions.record_visit(
        response_id=response.pk,
        version=response.version,
        by=responder,
        visited_at=on_time.received_at + dt.timedelta(minutes=55),
    )
    _triaged(
        spa,
        _call(
            spa,
            people[5],
            Source.NHS111,
            Need.DIABETES,
            "Blood sugar readings high all week; feels well",
            80,
        ),
        actions.Decision(
            acuity=Acuity.ADVICE,
            outcome=Outcome.ADVICE,
            note="Advice on sick-day rules; practice nurse to call today",
        ),
    )
    going = _triaged(
        spa,
        _call(
            spa,
            people[3],
            Source.SELF,
            Need.DELIRIUM,
            "Mum is not making sense this morning and is more sleepy",
            60,
        ),
        ucr(),
    )
    response = Response.objects.get(call=going)
    actions.set_off(response_id=response.pk, version=response.version, by=responder, eta_minutes=25)
    _triaged(
        spa,
        _call(
            spa,
            people[6],
            Source.GP,
            Need.REDUCED_FUNCTION,
            "Cannot manage stairs since a chest infection",
            40,
        ),
        ucr(),
    )
    counts["calls"] += 7
    counts["responses"] += 4
    # Waiting: one being triaged, four in the queue.
    held = _call(
        spa,
        people[7],
        Source.AMBULANCE,
        Need.FALL,
        "Fall at home, no head injury, crew on scene: call before convey",
        12,
    )
    actions.claim_call(call_id=held.pk, version=held.version, by=spa)
    for offset, (person, source, need, details) in enumerate(
        [
            (people[8], Source.CARE_HOME, Need.FRAILTY, "Off her legs since yesterday, not eating"),
            (people[9], Source.NHS111, Need.PALLIATIVE, "Pain not controlled; family distressed"),
            (people[10], Source.SELF, Need.CARER, "Husband, his carer, has been taken ill"),
            (people[11], Source.GP, Need.EQUIPMENT, "Needs a hospital bed at home today"),
        ]
    ):
        _call(spa, person, source, need, details, 9 - 2 * offset)
    counts["calls"] += 5
    # A step-down on the respiratory ward, with a worsening score.
    down = actions.admit(
        ward=made_wards[WardPathway.RESPIRATORY],
        person_id=people[12],
        route=Stay.Route.STEP_DOWN,
        reason="Early discharge after an exacerbation of COPD",
        by=responder,
        at=timezone.now() - dt.timedelta(days=2),
    )
    _observe(down, responder, 30, 18, 95, 128, 84, "37.1")
    _observe(down, responder, 8, 21, 93, 118, 96, "37.6")
    _observe(down, responder, 1, 25, 91, 108, 112, "38.3", oxygen=True)
    counts["stays"] = Stay.objects.count()
    return counts
