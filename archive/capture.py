"""A post as it looked, as a PDF (reportlab): the account, the time, the text, each
image with its description, and, for an edited post, every earlier version with its
time. Stored with the archived post (``ArchivedPost.capture``) so a records officer
can hand it over without a screenshot tool.

Images are fetched through the one HTTP chokepoint (time-out, private-address guard);
one that cannot be fetched is shown as a framed box with its description, and says so.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from accounts import http
from archive.models import ArchivedPost

logger = logging.getLogger(__name__)

FONT_CANDIDATES = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
)
# Images larger than this are not embedded (the description still is).
MAX_IMAGE_BYTES = 16 * 1024 * 1024
IMAGE_WIDTH = 120 * mm
MUTED = colors.HexColor("#555555")
_fonts: list[tuple[str, str]] = []


def _register_fonts() -> tuple[str, str]:
    """(regular, bold): a Unicode font where the system has one, else Helvetica."""
    if _fonts:
        return _fonts[0]
    names = ("Helvetica", "Helvetica-Bold")
    for regular, bold in FONT_CANDIDATES:
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("RecordSans", str(regular)))
            pdfmetrics.registerFont(TTFont("RecordSans-Bold", str(bold)))
            names = ("RecordSans", "RecordSans-Bold")
            break
    _fonts.append(names)
    return names


def _image(url: str) -> Image | None:
    if not url.startswith(("https://", "http://")):
        return None
    try:
        response = http.http_request("GET", url, timeout=http.DEFAULT_TIMEOUT)
    except http.HttpError as exc:
        logger.info("Capture image %s not fetched: %s", url, exc)
        return None
    except (http.BlockedAddress, http.InvalidURL):
        return None
    if not response.ok or len(response.content) > MAX_IMAGE_BYTES:
        return None
    try:
        reader = ImageReader(io.BytesIO(response.content))
        width, height = reader.getSize()
    except Exception:  # any undecodable image is shown as its description
        return None
    scale = min(1.0, IMAGE_WIDTH / max(width, 1))
    return Image(io.BytesIO(response.content), width=width * scale, height=height * scale)


def _when(moment: object) -> str:
    return date_format(localtime(moment), "DATETIME_FORMAT")  # type: ignore[arg-type]


def render_capture(post: ArchivedPost) -> bytes:
    """The PDF bytes of ``post`` as it looks now in the archive."""
    regular, bold = _register_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=11, leading=15)
    head = ParagraphStyle("head", fontName=bold, fontSize=14, leading=18)
    small = ParagraphStyle("small", fontName=regular, fontSize=9, leading=12, textColor=MUTED)
    sub = ParagraphStyle("sub", fontName=bold, fontSize=11, leading=15, spaceBefore=8)

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    account = post.channel_account
    story: list[object] = [
        para(account.display_name or account.handle, head),
        para(f"{account.handle} · {post.network}", small),
        para(_("Posted %(when)s") % {"when": _when(post.posted_at)}, small),
    ]
    if post.edited_at:
        story.append(para(_("Edited %(when)s") % {"when": _when(post.edited_at)}, small))
    if post.found_gone_at:
        story.append(
            para(
                _("Deleted on the network (found gone %(when)s)")
                % {"when": _when(post.found_gone_at)},
                small,
            )
        )
    if post.url:
        story.append(para(post.url, small))
    story.append(Spacer(1, 4 * mm))
    if post.content_warning:
        story.append(para(_("Content warning: %(text)s") % {"text": post.content_warning}, sub))
    story.append(para(post.text, body))
    for number, item in enumerate(post.media or [], start=1):
        story.append(Spacer(1, 3 * mm))
        alt = str(item.get("alt_text") or "") or _("(no description)")
        image = _image(str(item.get("url") or ""))
        if image is not None:
            story.append(image)
        else:
            box = Table(
                [
                    [
                        para(
                            _("Image %(number)d could not be fetched for this capture.")
                            % {"number": number},
                            small,
                        )
                    ]
                ],
                colWidths=[IMAGE_WIDTH],
            )
            box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.6, MUTED)]))
            story.append(box)
        story.append(
            para(_("Image %(number)d description: %(alt)s") % {"number": number, "alt": alt}, small)
        )
    versions = list(post.versions.order_by("valid_from", "pk"))
    if len(versions) > 1:
        story.append(para(_("Earlier versions"), sub))
        for version in versions[:-1]:
            when = _when(version.valid_from) if version.valid_from else ""
            story.append(para(when, small))
            story.append(para(version.text, body))
    story.append(Spacer(1, 6 * mm))
    story.append(para(_("Captured by GovSocial from the network's own record of the post."), small))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=_("Post by %(account)s") % {"account": account.handle},
        author=account.handle,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    )
    document.build(story)
    return buffer.getvalue()
