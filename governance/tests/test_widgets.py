"""QuickSelect writes the markup Django's Select writes, without the template engine."""

from __future__ import annotations

import re

from django import forms

from governance.widgets import QuickSelect


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
