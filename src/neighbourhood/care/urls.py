from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import path, re_path

from neighbourhood.care import lockout, twofactor
from neighbourhood.care.access import public
from neighbourhood.care.audit import views as audit
from neighbourhood.care.capacity import views as capacity
from neighbourhood.care.caseload import views as caseload
from neighbourhood.care.evaluation import views as evaluation
from neighbourhood.care.fhirapi import pages as api_clients
from neighbourhood.care.fhirapi import views as fhir
from neighbourhood.care.meetings import views as meetings
from neighbourhood.care.people import views as people
from neighbourhood.care.plans import views as plans
from neighbourhood.care.referrals import views as referrals
from neighbourhood.care.signin import SignInForm
from neighbourhood.care.teams import views as teams
from neighbourhood.care.urgent import views as urgent


@public
def assets(request: HttpRequest, name: str) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(static(f"nhsuk/assets/{name}"))


urlpatterns = [
    path("", teams.home, name="home"),
    # The FHIR API for partners' systems (ADR 25)
    path("fhir/token", fhir.token, name="fhir-token"),
    path("fhir/.well-known/smart-configuration", fhir.smart_configuration, name="fhir-smart"),
    path("fhir/metadata", fhir.metadata, name="fhir-metadata"),
    path("fhir/", fhir.server, name="fhir-server"),
    path("fhir", fhir.server),
    path("fhir/<str:resource_type>/_search", fhir.search_post, name="fhir-search"),
    path("fhir/<str:resource_type>", fhir.type_level, name="fhir-type"),
    path("fhir/<str:resource_type>/<str:rid>", fhir.instance, name="fhir-instance"),
    path("fhir/<str:resource_type>/<str:rid>/_history", fhir.history, name="fhir-history"),
    path("fhir/<str:resource_type>/<str:rid>/_history/<str:vid>", fhir.vread, name="fhir-vread"),
    re_path(r"^fhir/(?P<rest>[\s\S]*)\Z", fhir.unknown),  # any other address, newlines too
    path(
        "sign-in/",
        public(
            auth_views.LoginView.as_view(
                template_name="registration/sign_in.html",
                authentication_form=SignInForm,
                redirect_authenticated_user=True,
            )
        ),
        name="sign-in",
    ),
    path("sign-out/", public(auth_views.LogoutView.as_view()), name="sign-out"),
    path("two-factor/", twofactor.verify, name="two-factor"),
    path("two-factor/set-up/", twofactor.set_up, name="two-factor-set-up"),
    path("two-factor/account/", twofactor.account, name="two-factor-account"),
    path(
        "two-factor/recovery-codes/",
        twofactor.new_recovery_codes,
        name="two-factor-recovery-codes",
    ),
    path("case-finding/", people.case_finding, name="case-finding"),
    path("people/<str:person_id>/", people.profile, name="profile"),
    path("people/<str:person_id>/enrol/", caseload.enrol, name="enrol"),
    path("people/<str:person_id>/break-glass/", people.break_glass, name="break-glass"),
    path("people/<str:person_id>/plan/", plans.plan, name="care-plan"),
    path("people/<str:person_id>/plan/edit/", plans.plan_edit, name="care-plan-edit"),
    path("people/<str:person_id>/plan/versions/", plans.plan_versions, name="care-plan-versions"),
    path("people/<str:person_id>/plan/copy/", plans.plan_print, name="care-plan-copy"),
    path("people/<str:person_id>/plan/actions/new/", plans.task_new, name="task-new"),
    path("people/<str:person_id>/what-matters/", plans.what_matters, name="what-matters"),
    path("people/<str:person_id>/assessments/new/", plans.assessment_new, name="assessment-new"),
    path(
        "people/<str:person_id>/assessments/<int:assessment_id>/",
        plans.assessment,
        name="assessment",
    ),
    path(
        "people/<str:person_id>/advance-care-plan/",
        plans.advance_care_plan,
        name="advance-care-plan",
    ),
    path(
        "people/<str:person_id>/advance-care-plan/new/",
        plans.advance_care_plan_new,
        name="advance-care-plan-new",
    ),
    path(
        "people/<str:person_id>/advance-care-plan/review/",
        plans.advance_care_plan_review,
        name="advance-care-plan-review",
    ),
    path("people/<str:person_id>/refer/", referrals.refer, name="refer"),
    path("people/<str:person_id>/flag/", meetings.flag, name="flag"),
    path("directory/", referrals.directory, name="directory"),
    path("referrals/", referrals.inbox, name="referrals"),
    path("referrals/measures/", referrals.referral_measures, name="referral-measures"),
    path("referrals/<int:referral_id>/", referrals.referral, name="referral"),
    path("urgent/", urgent.queue, name="urgent-queue"),
    path("urgent/calls/new/", urgent.call_new, name="urgent-call-new"),
    path("urgent/calls/<int:call_id>/", urgent.call, name="urgent-call"),
    path("urgent/board/", urgent.board, name="urgent-board"),
    path("urgent/responses/<int:response_id>/", urgent.response, name="urgent-response"),
    path("urgent/measures/", urgent.urgent_measures, name="urgent-measures"),
    path("virtual-wards/", urgent.wards, name="wards"),
    path("virtual-wards/admit/", urgent.admit, name="virtual-ward-admit"),
    path("virtual-wards/<int:ward_id>/", urgent.ward, name="virtual-ward"),
    path("virtual-wards/stays/<int:stay_id>/", urgent.stay, name="virtual-ward-stay"),
    path("meetings/", meetings.meetings, name="meetings"),
    path("meetings/new/", meetings.meeting_new, name="meeting-new"),
    path("meetings/<int:meeting_id>/", meetings.meeting, name="meeting"),
    path("meetings/<int:meeting_id>/adjust/", meetings.meeting_adjust, name="meeting-adjust"),
    path("meetings/<int:meeting_id>/add/", meetings.meeting_add, name="meeting-add"),
    path("meetings/<int:meeting_id>/rebuild/", meetings.meeting_rebuild, name="meeting-rebuild"),
    path(
        "meetings/<int:meeting_id>/attendance/",
        meetings.meeting_attendance,
        name="meeting-attendance",
    ),
    path("meetings/<int:meeting_id>/close/", meetings.meeting_close, name="meeting-close"),
    path(
        "meetings/<int:meeting_id>/people/<int:item_id>/",
        meetings.meeting_item,
        name="meeting-item",
    ),
    path("practice-inbox/", meetings.practice_inbox, name="practice-inbox"),
    path(
        "practice-inbox/<int:message_id>/read/",
        meetings.practice_message_read,
        name="practice-message-read",
    ),
    path("worklist/", plans.worklist, name="worklist"),
    path("tasks/", plans.my_tasks, name="my-tasks"),
    path("tasks/team/", plans.team_tasks, name="team-tasks"),
    path("tasks/<int:task_id>/", plans.task, name="task"),
    path("measures/", plans.team_measures, name="team-measures"),
    path("caseload/", caseload.caseload, name="caseload"),
    path("caseload/<int:enrolment_id>/", caseload.enrolment, name="enrolment"),
    path("caseload/<int:enrolment_id>/update/", caseload.update, name="enrolment-update"),
    path("caseload/<int:enrolment_id>/transfer/", caseload.transfer, name="enrolment-transfer"),
    path("caseload/<int:enrolment_id>/discharge/", caseload.discharge, name="enrolment-discharge"),
    path("planning/", people.planning, name="planning"),
    path("workforce/", capacity.workforce_map, name="workforce-map"),
    path("capacity/", capacity.scenarios, name="capacity-scenarios"),
    path("evaluation/", evaluation.evaluations, name="evaluation"),
    path("audit/", audit.search, name="audit-search"),
    path("audit/break-glass/", audit.break_glass_queue, name="break-glass-queue"),
    path("audit/lockouts/", lockout.lockouts, name="lockouts"),
    path("api-clients/", api_clients.client_list, name="api-clients"),
    path("api-clients/new/", api_clients.client_new, name="api-client-new"),
    path("api-clients/<int:client_id>/", api_clients.client_detail, name="api-client"),
    path(
        "api-clients/<int:client_id>/deactivate/",
        api_clients.client_deactivate,
        name="api-client-deactivate",
    ),
    path("audit/lockouts/<int:attempt_id>/unlock/", lockout.unlock, name="unlock"),
    path(
        "audit/break-glass/<int:access_id>/reviewed/",
        audit.break_glass_reviewed,
        name="break-glass-reviewed",
    ),
    path("teams/", teams.teams, name="teams"),
    # Staff users keep organisations, teams and staff here; Django's admin checks that
    # itself (see access.SignInRequiredMiddleware), and it shows no person's record.
    path("admin/", admin.site.urls),
    # The NHS.UK stylesheet asks for its icons at /assets/: send it to where they are served.
    path("assets/<path:name>", assets),
]
