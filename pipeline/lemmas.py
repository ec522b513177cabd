"""Lemma dictionaries, simplemma's data as the compliance engine looks words up in it: each
language's dictionary as a marisa trie (simplemma's TrieDictionaryFactory), kept in the user's
cache folder per simplemma version, so a process maps a small file instead of decoding the whole
dictionary. The lemmas are simplemma's either way; without a writable cache folder (or marisa)
the dictionaries are decoded as simplemma does by default."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

try:
    import fcntl
except ImportError:   # no flock: processes started together may each build a trie (with a warning)
    fcntl = None


def cache_folder() -> Path:
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("clinic-pipeline")) / "lemmas" / version("simplemma")


def _lemmatizer():
    """simplemma's lemmatizer over the tries (imported only when a word is first looked up: a
    build with nothing to check does not load simplemma)."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy
    from simplemma.strategies.dictionaries import DEFAULT_DICTIONARY_FACTORY, TrieDictionaryFactory

    try:
        TrieDictionaryFactory(use_disk_cache=False)   # raises ImportError without marisa-trie
    except ImportError:
        return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=DEFAULT_DICTIONARY_FACTORY))

    class Tries(TrieDictionaryFactory):
        """simplemma's tries, each language's file written by one process at a time (under a
        lock), so processes started together build it once and none reads it half-written."""

        def __init__(self, folder: Path):
            super().__init__(disk_cache_dir=str(folder))
            self.folder = folder

        def _get_dictionary_uncached(self, lang: str):
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                lock = open(self.folder / f"{lang}.lock", "a")
            except OSError:   # no cache to keep: the dictionary as simplemma decodes it
                return DEFAULT_DICTIONARY_FACTORY.get_dictionary(lang)
            with lock:
                if fcntl is not None:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                return super()._get_dictionary_uncached(lang)

    return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=Tries(cache_folder())))


_LEMMATIZER = None


def lemmatize(word: str, lang: str) -> str:
    """simplemma's lemma of `word` in `lang` (a language simplemma has data for)."""
    global _LEMMATIZER
    if _LEMMATIZER is None:
        _LEMMATIZER = _lemmatizer()
    return _LEMMATIZER.lemmatize(word, lang)
