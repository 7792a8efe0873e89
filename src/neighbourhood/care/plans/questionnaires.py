"""The assessments, shipped as FHIR R4 ``Questionnaire`` JSON in ``questionnaires/``.

Each is validated with fhir.resources when first read. A question is a ``choice`` (drawn
as radios), or ``text``; an answer option carrying the ``raises-problem`` extension adds
that problem to the assessment's problem list when chosen. Answers are kept as
``{linkId: value}`` and given out as a ``QuestionnaireResponse``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django import forms
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire

from neighbourhood.errors import UserError

FOLDER = Path(__file__).parent / "questionnaires"
RAISES_PROBLEM = "https://neighbourhood.health/fhir/StructureDefinition/raises-problem"


@dataclass(frozen=True)
class Option:
    code: str
    display: str
    problem: str = ""


@dataclass(frozen=True)
class Question:
    link_id: str
    text: str
    kind: str  # "choice" or "text"
    required: bool
    options: tuple[Option, ...] = ()

    def answer_text(self, value: Any) -> str:
        if self.kind == "choice":
            return next((o.display for o in self.options if o.code == value), str(value))
        return str(value)


@dataclass(frozen=True)
class Domain:
    link_id: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Questionnaire:
    slug: str
    url: str
    version: str
    title: str
    description: str
    copyright: str
    domains: tuple[Domain, ...] = field(default=())

    @property
    def questions(self) -> dict[str, Question]:
        return {q.link_id: q for d in self.domains for q in d.questions}

    def problems(self, answers: dict[str, Any]) -> list[dict[str, str]]:
        """The problems the answers raise, in the questionnaire's order."""
        found = []
        for domain in self.domains:
            for question in domain.questions:
                chosen = answers.get(question.link_id)
                for option in question.options:
                    if option.code == chosen and option.problem:
                        found.append(
                            {
                                "text": option.problem,
                                "domain": domain.title,
                                "link_id": question.link_id,
                            }
                        )
        return found

    def unanswered(self, answers: dict[str, Any]) -> list[Question]:
        return [
            q
            for q in self.questions.values()
            if q.required and not str(answers.get(q.link_id) or "").strip()
        ]

    def form(self, data: Any = None, initial: dict[str, Any] | None = None) -> forms.Form:
        """A form of every question, none required: an assessment may be saved part-done;
        finishing it checks the required ones (``unanswered``)."""
        form = forms.Form(data, initial=initial or {})
        for question in self.questions.values():
            name = question.link_id
            if question.kind == "choice":
                form.fields[name] = forms.ChoiceField(
                    label=question.text,
                    required=False,
                    choices=[(o.code, o.display) for o in question.options],
                    widget=forms.RadioSelect,
                    error_messages={"invalid_choice": "Choose one of the answers given"},
                )
            else:
                form.fields[name] = forms.CharField(
                    label=question.text,
                    required=False,
                    max_length=5000,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
        return form

    def response(
        self, assessment_id: int, person_id: str, status: str, answers: dict[str, Any], at: str
    ) -> dict[str, Any]:
        """The answers as a FHIR R4 ``QuestionnaireResponse``."""
        items = []
        for domain in self.domains:
            inner = []
            for question in domain.questions:
                value = answers.get(question.link_id)
                if value in (None, ""):
                    continue
                if question.kind == "choice":
                    option = next((o for o in question.options if o.code == value), None)
                    answer: dict[str, Any] = (
                        {"valueCoding": {"code": option.code, "display": option.display}}
                        if option
                        else {"valueString": str(value)}
                    )
                else:
                    answer = {"valueString": str(value)}
                inner.append(
                    {"linkId": question.link_id, "text": question.text, "answer": [answer]}
                )
            if inner:
                items.append({"linkId": domain.link_id, "text": domain.title, "item": inner})
        return {
            "resourceType": "QuestionnaireResponse",
            "id": f"assessment-{assessment_id}",
            "questionnaire": f"{self.url}|{self.version}",
            "status": status,
            "subject": {"identifier": {"value": person_id}},
            "authored": at,
            "item": items,
        }


def _question(item: Any) -> Question:
    options = []
    for option in item.answerOption or []:
        problem = next(
            (str(e.valueString) for e in option.extension or [] if e.url == RAISES_PROBLEM), ""
        )
        options.append(Option(option.valueCoding.code, option.valueCoding.display, problem))
    kind = "choice" if item.type == "choice" else "text"
    return Question(item.linkId, item.text, kind, bool(item.required), tuple(options))


def _load(path: Path) -> Questionnaire:
    try:
        resource = FhirQuestionnaire.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise UserError(
            f"the questionnaire {path.name} is not a valid FHIR Questionnaire: {error}"
        ) from error
    domains = tuple(
        Domain(str(group.linkId), str(group.text), tuple(_question(i) for i in group.item or []))
        for group in resource.item or []
    )
    return Questionnaire(
        slug=path.stem,
        url=str(resource.url),
        version=str(resource.version),
        title=str(resource.title),
        description=str(resource.description or ""),
        copyright=str(resource.copyright or ""),
        domains=domains,
    )


@functools.cache
def shipped() -> dict[str, Questionnaire]:
    """Every questionnaire in the package, by its slug (the file's name)."""
    return {q.slug: q for q in (_load(p) for p in sorted(FOLDER.glob("*.json")))}


def by_url(url: str) -> Questionnaire | None:
    return next((q for q in shipped().values() if q.url == url), None)
