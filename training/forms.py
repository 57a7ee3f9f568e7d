"""Forms of the training pages: authoring (course, question with its answers, attachment,
assignment) and taking a quiz."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from plans.forms.plans import UserChoiceField
from plans.models import Department, ResponseRole

from . import services
from .models import Course, Question


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = [
            "title",
            "kind",
            "summary",
            "content",
            "plan",
            "fallback",
            "pass_mark",
            "validity_months",
            "is_active",
        ]
        widgets = {"content": forms.Textarea(attrs={"rows": 14}), "summary": forms.TextInput()}


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Question"), widget=forms.Textarea(attrs={"rows": 3}))
    kind = forms.ChoiceField(label=_("Kind"), choices=Question.Kind.choices)
    order = forms.IntegerField(label=_("Order"), min_value=1, max_value=999, initial=1)


class ChoiceForm(forms.Form):
    text = forms.CharField(label=_("Answer"), max_length=300, required=False)
    is_correct = forms.BooleanField(label=_("Correct"), required=False)


ChoiceFormSet = forms.formset_factory(ChoiceForm, extra=2, min_num=2, max_num=8, validate_max=True)


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("PDF, picture, Word, Excel, PowerPoint or text; at most 10 MB.")
    )
    name = forms.CharField(label=_("Name shown"), max_length=200, required=False)


class AssignmentForm(forms.Form):
    TARGETS = [("user", _("A person")), ("department", _("A department")), ("role", _("A response role"))]

    target = forms.ChoiceField(label=_("Assign to"), choices=TARGETS, widget=forms.RadioSelect, initial="department")
    user = UserChoiceField(
        label=_("Person"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username"),
        required=False,
    )
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.all(), required=False)
    role = forms.ModelChoiceField(label=_("Response role"), queryset=ResponseRole.objects.all(), required=False)
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target and not data.get(target):
            self.add_error(target, _("Choose whom to assign the course to."))
        return data

    def target_kwargs(self) -> dict:
        target = self.cleaned_data["target"]
        return {target: self.cleaned_data[target]}


class QuizForm(forms.Form):
    """One field per question (radio buttons or checkboxes), plus a signed start time.

    The choice fields only accept the ids of that question's answers, so a tampered form gets a
    field error; the service checks the same again for the API (training.services.score_answers)."""

    started = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, questions: list[Question], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        if not self.is_bound:
            self.fields["started"].initial = services.start_token()
        for number, question in enumerate(questions, start=1):
            choices = [(str(c.pk), c.text) for c in question.choices.all()]
            label = f"{number}. {question.text}"
            if question.kind == Question.Kind.MULTIPLE:
                field = forms.MultipleChoiceField(
                    label=label,
                    choices=choices,
                    widget=forms.CheckboxSelectMultiple,
                    help_text=_("Tick every correct answer."),
                )
            else:
                field = forms.ChoiceField(label=label, choices=choices, widget=forms.RadioSelect)
            field.error_messages["required"] = _("Answer this question.")
            self.fields[f"q{question.pk}"] = field

    def answers(self) -> dict[str, list[str]]:
        out = {}
        for question in self.questions:
            value = self.cleaned_data.get(f"q{question.pk}")
            out[str(question.pk)] = value if isinstance(value, list) else [value]
        return out

    def started_at(self):
        # The page's own hidden field: a bad one only loses the duration, the answers still count.
        try:
            return services.started_at_from_token(self.cleaned_data.get("started") or "")
        except ValidationError:
            return None

    def question_fields(self):
        return [self[f"q{q.pk}"] for q in self.questions]
