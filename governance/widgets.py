"""Form widgets and field groups that render in Python what Django renders through
its templates.

Django's ``Select`` renders each option through the template engine (an include per
option); a filter with fifty accounts costs a page several milliseconds of CPU on
every view. ``QuickSelect`` writes the same markup directly; the other quick widgets
and ``QuickBoundField`` do the same for inputs, text areas and whole field groups.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


def _attributes(attrs: dict[str, Any] | None) -> str:
    """Attributes as Django's ``attrs.html`` templates write them: in their order, a
    ``True`` one as a bare name, a ``False`` one left out, every value escaped."""
    parts: list[str] = []
    for name, value in (attrs or {}).items():
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        elif value is not False:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(value)}"')
    return "".join(parts)


class QuickSelect(forms.Select):
    """A single-choice select written without the template engine (flat choices only;
    grouped choices fall back to Django's rendering)."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        choices = list(self.choices)
        if self.allow_multiple_selected or any(
            isinstance(label, list | tuple) for _value, label in choices
        ):
            return super().render(name, value, attrs, renderer)
        final_attrs = self.build_attrs(self.attrs, attrs)
        wanted = set(self.format_value(value))
        options: list[str] = []
        selected_one = False
        for option_value, label in choices:
            text = "" if option_value is None else str(option_value)
            selected = not selected_one and text in wanted
            selected_one = selected_one or selected
            options.append(
                f'<option value="{escape(text)}"{" selected" if selected else ""}>'
                f"{escape(label)}</option>"
            )
        return mark_safe(  # noqa: S308 - every value, label and attribute is escaped
            f'<select name="{escape(name)}"{_attributes(final_attrs)}>'
            + "".join(options)
            + "</select>"
        )


class QuickInputMixin:
    """For a subclass of ``forms.Input``: the ``<input>`` written without the template
    engine, as ``django/forms/widgets/input.html`` writes it."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        shown = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
        return mark_safe(  # noqa: S308 - every name, value and attribute is escaped
            f'<input type="{conditional_escape(widget["type"])}" '
            f'name="{conditional_escape(widget["name"])}"{shown}{_attributes(widget["attrs"])}>'
        )


class QuickTextInput(QuickInputMixin, forms.TextInput):
    pass


class QuickHiddenInput(QuickInputMixin, forms.HiddenInput):
    pass


class QuickTextarea(forms.Textarea):
    """A ``<textarea>`` written as ``django/forms/widgets/textarea.html`` writes it."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        text = conditional_escape(widget["value"]) if widget["value"] else ""
        return mark_safe(  # noqa: S308 - the name, the text and every attribute are escaped
            f'<textarea name="{conditional_escape(widget["name"])}"'
            f"{_attributes(widget['attrs'])}>\n{text}</textarea>"
        )


QUICK_WIDGETS = (QuickSelect, QuickInputMixin, QuickTextarea)
FIELD_TEMPLATE = "django/forms/field.html"
LABEL_TEMPLATE = "django/forms/label.html"


class QuickBoundField(BoundField):
    """``as_field_group`` (label, help text, errors, widget) written as Django's
    ``field.html`` and ``label.html`` write it, without the template engine: through the
    templates each field costs a page a quarter of a millisecond or more, most of it in
    the engine. Only for a quick widget (above) and Django's own field templates; any
    other field is left to Django."""

    def as_field_group(self) -> SafeString:
        if (
            not isinstance(self.field.widget, QUICK_WIDGETS)
            or self.use_fieldset
            or self.field.show_hidden_initial
            or self.template_name != FIELD_TEMPLATE
            or self.form.template_name_label != LABEL_TEMPLATE
        ):
            return super().as_field_group()
        label = self._label_html() if self.label else ""
        help_text = ""
        if self.help_text:
            helptext_id = (
                f' id="{conditional_escape(self.auto_id)}_helptext"' if self.auto_id else ""
            )
            help_text = f'<div class="helptext"{helptext_id}>{self.help_text}</div>'
        # Errors are rare (a refused form): Django's own template writes them.
        errors = str(self.errors) if self.errors else ""
        html = f"\n  {label}\n\n{help_text}\n{errors}\n{self.as_widget()}\n"
        return mark_safe(html.strip())  # noqa: S308 - each part is escaped or Django's own

    def _label_html(self) -> str:
        # BoundField.label_tag, without its template.
        contents: Any = self.label
        field = self.field
        suffix = field.label_suffix if field.label_suffix is not None else self.form.label_suffix
        if suffix and contents and contents[-1] not in _(":?.!"):
            contents = format_html("{}{}", contents, suffix)
        id_ = field.widget.attrs.get("id") or self.auto_id
        if not id_:
            return str(conditional_escape(contents)).strip()
        attrs: dict[str, Any] = {}
        id_for_label = field.widget.id_for_label(id_)
        if id_for_label:
            attrs["for"] = id_for_label
        if field.required and hasattr(self.form, "required_css_class"):
            attrs["class"] = self.form.required_css_class
        return f"<label{_attributes(attrs)}>{conditional_escape(contents)}</label>".strip()


class QuickFieldsForm(forms.Form):
    """A form whose fields write their field groups in Python (``QuickBoundField``)."""

    bound_field_class = QuickBoundField
