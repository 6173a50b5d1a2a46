"""Layout helpers shared by every app's templates."""

from __future__ import annotations

from django import template
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


class ScrollRegionNode(template.Node):
    def __init__(self, nodelist: template.NodeList, parts: list[FilterExpression]) -> None:
        self.nodelist = nodelist
        self.parts = parts

    def render(self, context: Context) -> SafeString:
        return format_html(
            '<div class="table-scroll" role="region" aria-labelledby="{}" tabindex="0">{}</div>',
            "".join(str(part.resolve(context)) for part in self.parts),
            self.nodelist.render(context),  # a SafeString: escaped by the inner template
        )


@register.tag
def scrollregion(parser: Parser, token: Token) -> ScrollRegionNode:
    """``{% scrollregion "caption-id" %}<table>…</table>{% endscrollregion %}``.

    Several arguments are joined into one id, for tables in a loop:
    ``{% scrollregion "group-" forloop.counter %}``.

    A wide table scrolls sideways inside its own region instead of the whole page
    (WCAG 1.4.10 Reflow). The region is focusable so a keyboard can scroll it (axe's
    scrollable-region-focusable) and is named by the element ``caption-id``, usually
    the table's caption.
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            "scrollregion takes one argument: the id of the element that names the region"
        )
    nodelist = parser.parse(("endscrollregion",))
    parser.delete_first_token()
    return ScrollRegionNode(nodelist, [parser.compile_filter(bit) for bit in bits[1:]])
