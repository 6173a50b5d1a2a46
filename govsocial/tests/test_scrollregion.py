"""The scrollregion tag: a wide table scrolls in a named, focusable region of its own."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError


def test_it_wraps_the_table_in_a_focusable_region_named_by_its_caption():
    html = Template(
        '{% load layout %}{% for g in groups %}{% scrollregion "group-" forloop.counter %}'
        '<table><caption id="group-{{ forloop.counter }}">{{ g }}</caption></table>'
        "{% endscrollregion %}{% endfor %}"
    ).render(Context({"groups": ["<b>One</b>"]}))
    assert html == (
        '<div class="table-scroll" role="region" aria-labelledby="group-1" tabindex="0">'
        '<table><caption id="group-1">&lt;b&gt;One&lt;/b&gt;</caption></table></div>'
    )


def test_it_needs_the_id_of_what_names_the_region():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load layout %}{% scrollregion %}<table></table>{% endscrollregion %}")
