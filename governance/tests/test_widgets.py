"""The quick widgets and field groups write the markup Django writes, without the
template engine."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from governance.widgets import (
    QuickFieldsForm,
    QuickHiddenInput,
    QuickSelect,
    QuickTextarea,
    QuickTextInput,
)


class _Form(forms.Form):
    fast = forms.IntegerField(label="Fast", required=False, widget=QuickSelect())
    slow = forms.IntegerField(label="Slow", required=False, widget=forms.Select())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "All"), (1, "<b>One</b> & co"), (2, "Two"), ("2", "Two again")]
        for name in ("fast", "slow"):
            self.fields[name].widget.choices = choices


def _flat(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


def _same(data):
    form = _Form(data)
    fast = _flat(form["fast"].as_widget()).replace('name="fast" id="id_fast"', "X")
    slow = _flat(form["slow"].as_widget()).replace('name="slow" id="id_slow"', "X")
    return fast, slow


def test_the_markup_matches_djangos_select_unbound_and_chosen():
    for data in (None, {"fast": "2", "slow": "2"}, {"fast": "", "slow": ""}):
        fast, slow = _same(data)
        assert fast == slow
    fast, _slow = _same({"fast": "2", "slow": "2"})
    # Escaped labels, and only the first matching option selected.
    assert "&lt;b&gt;One&lt;/b&gt; &amp; co" in fast
    assert fast.count(" selected") == 1


def test_grouped_choices_fall_back_to_django():
    widget = QuickSelect(choices=[("Group", [(1, "One"), (2, "Two")])])
    html = widget.render("g", "2")
    assert "<optgroup" in html and 'value="2" selected' in html


class _Slow(forms.Form):
    required_css_class = "needed"
    name = forms.CharField(label="Name", max_length=80)
    note = forms.CharField(
        label="Note?",
        required=False,
        help_text="Only <em>your</em> team sees it.",
        widget=forms.Textarea(attrs={"rows": 2, "data-box": ""}),
    )
    hidden = forms.IntegerField(required=False, widget=forms.HiddenInput)
    choice = forms.ChoiceField(label="Pick", choices=[("", "—"), ("a", "A & B")])


class _Quick(QuickFieldsForm):
    required_css_class = "needed"
    name = forms.CharField(label="Name", max_length=80, widget=QuickTextInput)
    note = forms.CharField(
        label="Note?",
        required=False,
        help_text="Only <em>your</em> team sees it.",
        widget=QuickTextarea(attrs={"rows": 2, "data-box": ""}),
    )
    hidden = forms.IntegerField(required=False, widget=QuickHiddenInput)
    choice = forms.ChoiceField(
        label="Pick", choices=[("", "—"), ("a", "A & B")], widget=QuickSelect
    )


def test_quick_field_groups_write_what_djangos_templates_write():
    cases: list[dict[str, Any]] = [
        {},
        {"initial": {"name": 'O"Brien <x>', "note": "a < b\nc", "hidden": 3}},
        {"data": {"name": "", "note": "x" * 3, "hidden": "nope", "choice": "zz"}},
        {"data": {"name": "Ann", "note": "", "hidden": "", "choice": "a"}},
        {"auto_id": "mine_%s"},
        {"auto_id": False},
        {"label_suffix": ""},
    ]
    for kwargs in cases:
        slow, quick = _Slow(**kwargs), _Quick(**kwargs)
        for name in ("name", "note", "hidden"):
            assert str(quick[name]) == str(slow[name])
            assert quick[name].as_field_group() == slow[name].as_field_group()
        # QuickSelect leaves out the whitespace between options (checked above).
        assert _flat(quick["choice"].as_field_group()) == _flat(slow["choice"].as_field_group())


def test_a_field_group_django_would_write_differently_is_left_to_django():
    class _Boxes(QuickFieldsForm):
        days = forms.MultipleChoiceField(
            choices=[("1", "Mon")], widget=forms.CheckboxSelectMultiple
        )

    form = _Boxes()
    assert "<fieldset" in form["days"].as_field_group()
