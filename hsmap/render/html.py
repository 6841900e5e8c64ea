"""The HTML pages' templates (``hsmap/templates/*.html.j2``, shipped in the package), rendered by Jinja2 with
autoescaping on: every value put into a page is escaped unless a template says otherwise, so text from the
inputs (names, descriptions, comments) never becomes markup."""

from __future__ import annotations

import functools
from typing import Any

import jinja2


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("hsmap", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a name the code forgot to pass is an error, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_page(template: str, **context: Any) -> str:
    """Render ``hsmap/templates/<template>`` with ``context``."""
    return _environment().get_template(template).render(**context)
