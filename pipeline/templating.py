"""Jinja2 for every channel: one environment per template folder, StrictUndefined, and template
mistakes reported as findings at templates/<channel>/<file>:line, never as a traceback."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from pipeline.errors import Finding, Location, PipelineError


def make_environment(root: Path, channel: str, *, autoescape: bool = True) -> jinja2.Environment:
    folder = root / "templates" / channel
    if not folder.is_dir():
        raise PipelineError(Finding(Location(f"templates/{channel}"), f"the template folder for the {channel} "
                                    f"channel is missing; restore templates/{channel}/ from the repository"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["isodate"] = lambda d: d.isoformat()
    env.filters["humandate"] = human_date
    env.filters["jsonld"] = json_ld
    env.globals["channel"] = channel
    return env


def human_date(value: datetime) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def json_ld(data: dict) -> Markup:
    """JSON for a <script type="application/ld+json"> block: `<`, `>` and `&` escaped so text
    from front matter can never close the script element."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def render(env: jinja2.Environment, name: str, **context) -> str:
    """Render template `name`; template problems become a PipelineError at the template's line."""
    channel = env.globals["channel"]
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        where = Location(f"templates/{channel}/{exc.name or name}", exc.lineno)
        raise PipelineError(Finding(where, f"template syntax: {exc.message}")) from None
    except jinja2.TemplateNotFound as exc:
        raise PipelineError(Finding(Location(f"templates/{channel}/{exc.name}"),
                                    "template is missing; restore it from the repository")) from None
    except jinja2.UndefinedError as exc:
        line = _template_line(exc, channel)
        raise PipelineError(Finding(Location(f"templates/{channel}/{line[0] or name}", line[1]),
                                    f"template uses an undefined value: {exc.message}")) from None


def _template_line(exc: BaseException, channel: str) -> tuple[str | None, int | None]:
    tb = exc.__traceback__ or sys.exc_info()[2]
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if f"templates/{channel}/" in filename.replace("\\", "/"):
            template = tb.tb_frame.f_globals.get("__jinja_template__")
            lineno = template.get_corresponding_lineno(tb.tb_lineno) if template is not None else None
            found = (Path(filename).name, lineno)
        tb = tb.tb_next
    return found
