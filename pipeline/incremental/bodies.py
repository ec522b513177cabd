"""Articles loaded without their bodies, and given back whole: a build holds every article's
metadata (listings, neighbours, the report) but only the bodies it renders, so its memory does
not grow with the articles' text. An article without its body (`light`) holds UNLOADED in its
body fields, which refuses every use; Site.whole gives the article back whole through the
Hydrator, which converts its source again (see conversion.reconvert)."""

from __future__ import annotations

from typing import Callable

from pipeline.model import Article


class _Unloaded:
    """Stands for an article's body in an article loaded without it (see `light`): any use of it
    fails loudly, so no output can be made from a body that was not read."""

    def _refuse(self, *args, **kwargs):
        raise RuntimeError("an article's body was used but not loaded (pipeline bug: hydrate it first)")

    __str__ = __len__ = __iter__ = __bool__ = __getitem__ = __contains__ = __add__ = __radd__ = __hash__ = _refuse
    __eq__ = _refuse

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        self._refuse()

    def __repr__(self) -> str:
        return "<not loaded>"

    def __reduce__(self):
        return "UNLOADED"


UNLOADED = _Unloaded()
BODY_FIELDS = ("html", "text", "lines", "front")


def light(article: Article) -> Article:
    """The article without its body, source lines and YAML nodes: what listings, feeds' neighbours
    and the report need of an article whose own outputs are already made."""
    return Article(**{f: (UNLOADED if f in BODY_FIELDS else getattr(article, f))
                      for f in Article.__dataclass_fields__})


def is_light(article: Article) -> bool:
    return article.html is UNLOADED


class Hydrator:
    """Gives an article loaded without its body back whole, exactly as converted."""

    def __init__(self, convert: Callable[[Article], Article]):
        """`convert`: the whole article of one loaded without its body, its source converted
        again (a PipelineError when that is not the article the build loaded)."""
        self.convert = convert

    def __call__(self, article: Article) -> Article:
        return self.convert(article) if is_light(article) else article
