"""Jinja2 for every channel: one environment per template folder, StrictUndefined, and template
mistakes reported as findings at templates/<channel>/<file>:line, never as a traceback."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import jinja2
import jinja2.meta
from markupsafe import Markup

from pipeline.incremental import cache
from pipeline.errors import Finding, Location, PipelineError


def make_environment(root: Path, channel: str, *, autoescape: bool = True) -> jinja2.Environment:
    folder = root / "templates" / channel
    if not folder.is_dir():
        raise PipelineError(Finding(Location(f"templates/{channel}"), f"the template folder for the {channel} "
                                    f"channel is missing; restore templates/{channel}/ from the repository"))
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(f"{channel}-{'html' if autoescape else 'text'}"),
    )
    env.filters["isodate"] = lambda d: d.isoformat()
    env.filters["humandate"] = human_date
    env.filters["jsonld"] = json_ld
    env.globals["channel"] = channel
    return env


def page_digests(folder: Path, pages: tuple[str, ...]) -> dict[str, str]:
    """Per page template of a folder: the digest of every file of the folder that its pages can
    depend on, which is all of them but the other page templates it does not use (extends,
    include, import, found by Jinja's own analysis of the source, transitively). A template that
    names another only at run time, or cannot be read, depends on all of them. So editing the
    listing template renders no article page again, and the other way round."""
    files = dict(cache.folder_files(folder))
    parser = jinja2.Environment()

    def used(page: str) -> set[str] | None:
        found, todo = {page}, [page]
        while todo:
            try:
                names = list(jinja2.meta.find_referenced_templates(parser.parse(files[todo.pop()].decode("utf-8"))))
            except (KeyError, UnicodeDecodeError, jinja2.TemplateError):
                return None
            if None in names:
                return None
            todo += [name for name in names if name not in found]
            found.update(names)
        return found

    # Which templates each page uses means parsing them all: worked out again only when a file of
    # the folder changed.
    uses = cache.current().memo("page-templates", cache.digest(pages, *files.items()),
                                lambda: {page: used(page) for page in pages})
    digests = {}
    for page in pages:
        needed = uses[page]
        left_out = set() if needed is None else set(pages) - needed
        digests[page] = cache.digest(*[(path, data) for path, data in files.items() if path not in left_out])
    return digests


class _Environment(jinja2.Environment):
    """Jinja's environment, noting each template it compiles (cache.did): a build's account of
    its work says which were (see pipeline.incremental.work)."""

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        cache.did(cache.TEMPLATE, f"{self.globals.get('channel')}/{name}")
        return super().compile(source, name, filename, raw, defer_init)


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's compiled templates kept beside the build cache (as Jinja's own bytecode cache does,
    a file per template checked against the template's source, so an edited template is compiled
    again): otherwise every build would compile every template anew. Best effort:
    a file that cannot be read (damaged, cut short) or written only means compiling again."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - Jinja lets a damaged file's pickle error through
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache(kind: str) -> jinja2.BytecodeCache | None:
    """A folder per environment and version of the pipeline and Jinja: Jinja names a compiled
    template by its path alone, yet the code differs with the environment's settings (autoescape)
    and Jinja's compiler. Other versions' folders are removed. None when the build keeps no cache
    (--no-cache)."""
    build_cache = cache.current()
    if build_cache.path is None or not build_cache.code:
        return None
    folder = _versioned(build_cache.path.parent / "templates", f"{build_cache.code[:16]}-jinja-{jinja2.__version__}")
    if folder is None:
        return None
    try:
        (folder / kind).mkdir(parents=True, exist_ok=True)   # again if .pipeline/ was deleted since
    except OSError:
        return None
    return _CompiledTemplates(str(folder / kind))


@lru_cache(maxsize=None)
def _versioned(top: Path, version: str) -> Path | None:
    """top/version, made, with other versions' folders removed: once per process, not once per
    environment."""
    try:
        if top.is_dir():
            for old in top.iterdir():
                if old.name != version:
                    shutil.rmtree(old, ignore_errors=True)
        (top / version).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return top / version


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
