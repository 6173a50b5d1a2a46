"""Forms of the writing guidelines page: the short style guide, hashtag sets and word
rules. Each is bound to the admin's organization: only its campaigns and policies are
offered, and another organization's are refused."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.models import Organization, Policy
from publishing.languages import language_choices, organization_language_codes
from publishing.models import Campaign, HashtagSet, StyleGuide, WordRule
from publishing.validation import organization_publishing_rules

MAX_HASHTAGS = 30


def _languages(organization: Organization, current: str = "") -> list[tuple[str, str]]:
    """The languages the organization posts in (not only the interface's), with the
    guideline's own language kept when it has since left the list."""
    codes = organization_language_codes(organization_publishing_rules(organization))
    if current and current not in codes:
        codes.append(current)
    return language_choices(codes)


class _OrgForm(forms.ModelForm):
    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        self.organization = organization
        kwargs.setdefault("prefix", self.kind)
        super().__init__(*args, **kwargs)

    kind = ""


class StyleGuideForm(_OrgForm):
    kind = "guide"

    class Meta:
        model = StyleGuide
        fields = ["language", "text", "policy"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"),
            choices=[
                ("", _("Every language")),
                *_languages(self.organization, self.instance.language),
            ],
            required=False,
        )
        policy = self.fields["policy"]
        policy.queryset = Policy.objects.filter(organization=self.organization)  # type: ignore[attr-defined]
        policy.help_text = _("The full policy people open from the short guide.")

    def clean_language(self) -> str:
        language: str = self.cleaned_data.get("language", "")
        taken = StyleGuide.objects.filter(organization=self.organization, language=language)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("There is a guide for this language already."))
        return language


class HashtagSetForm(_OrgForm):
    kind = "hashtags"

    class Meta:
        model = HashtagSet
        fields = ["name", "campaign", "hashtags", "required"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaign = self.fields["campaign"]
        campaign.queryset = Campaign.objects.filter(organization=self.organization)  # type: ignore[attr-defined]
        self.fields["hashtags"].help_text = _("Separated by spaces, such as #Helsinki #kesä.")

    def clean_hashtags(self) -> str:
        tags = str(self.cleaned_data.get("hashtags", "")).split()
        if not tags:
            raise forms.ValidationError(_("Enter at least one hashtag."))
        if len(tags) > MAX_HASHTAGS:
            raise forms.ValidationError(
                _("A set can have at most %(max)d hashtags.") % {"max": MAX_HASHTAGS}
            )
        wrong = [tag for tag in tags if not tag.startswith("#") or len(tag) < 2 or "#" in tag[1:]]
        if wrong:
            raise forms.ValidationError(
                _("Each hashtag starts with # and has no spaces: %(wrong)s")
                % {"wrong": " ".join(wrong)}
            )
        return " ".join(dict.fromkeys(tags))

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("required") and not data.get("campaign"):
            self.add_error("campaign", _("Choose the campaign whose posts need these hashtags."))
        return data


class WordRuleForm(_OrgForm):
    kind = "word"

    class Meta:
        model = WordRule
        fields = ["language", "phrase", "severity", "alternative", "note", "match_prefix"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"), choices=_languages(self.organization, self.instance.language)
        )

    def clean_phrase(self) -> str:
        phrase = " ".join(str(self.cleaned_data.get("phrase", "")).split())
        if not any(ch.isalnum() for ch in phrase):
            raise forms.ValidationError(_("Enter a word or phrase."))
        return phrase


GUIDELINE_FORMS: dict[str, type[_OrgForm]] = {
    form.kind: form for form in (StyleGuideForm, HashtagSetForm, WordRuleForm)
}
