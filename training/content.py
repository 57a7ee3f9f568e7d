"""Course content: Markdown rendered to HTML, then sanitised.

Markdown passes raw HTML through, so its output is cleaned with nh3 (an allow-list of tags and
attributes; scripts, event handlers and javascript: links are dropped) before it is marked safe."""

from __future__ import annotations

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe


def render_markdown(text: str) -> SafeString:
    html = markdown.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer"))
