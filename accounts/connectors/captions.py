"""Caption files as networks take them: the library keeps WebVTT; X's subtitles and
LinkedIn's captions file are SubRip (SRT)."""

from __future__ import annotations

import pysubs2
from django.utils.translation import get_language_info


def srt_from_vtt(vtt: str) -> str:
    """``vtt`` (already validated on upload) as SubRip text; styling tags are dropped."""
    return str(pysubs2.SSAFile.from_string(vtt, format_="vtt").to_string("srt"))


def language_name(code: str) -> str:
    """The language's name in itself ("suomi", "svenska"), or the code when unknown."""
    try:
        return str(get_language_info(code)["name_local"])
    except KeyError:
        return code
