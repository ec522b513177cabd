"""Lemmas as the compliance engine looks words up: simplemma's, always.

- Each language's dictionary is a marisa trie (simplemma's TrieDictionaryFactory), kept in the
  user's cache folder per simplemma version, so a process maps a small file instead of decoding
  the whole dictionary.
- Every word looked up is remembered beside the tries (`<lang>.seen`: one line per word, its
  lemma and a CRC-32 of both), so a process whose words were all seen before, such as a rebuild
  after an edit, neither imports simplemma nor opens a trie. A line that fails its check (torn,
  or run into the next by a write cut short) is ignored: the word is looked up again.

Without a writable cache folder (or marisa) the dictionaries are decoded as simplemma does by
default and nothing is remembered between processes."""

from __future__ import annotations

import os
import zlib
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
SEEN_LIMIT = 8_000_000   # bytes of a language's remembered words past which no more are added
_SEEN: dict[str, dict[str, str]] = {}   # lang -> word -> simplemma's lemma
_APPEND: dict[str, int | None] = {}     # lang -> its .seen file open for appending (None: not kept)


def lemmatize(word: str, lang: str) -> str:
    """simplemma's lemma of `word` in `lang` (a language simplemma has data for)."""
    seen = _SEEN.get(lang)
    if seen is None:
        seen = _SEEN[lang] = _read_seen(lang)
    found = seen.get(word)
    if found is None:
        global _LEMMATIZER
        if _LEMMATIZER is None:
            _LEMMATIZER = _lemmatizer()
        found = seen[word] = _LEMMATIZER.lemmatize(word, lang)
        _remember(lang, word, found)
    return found


def _line(word: str, lemma: str) -> str:
    pair = f"{word}\t{lemma}"
    return f"{pair}\t{zlib.crc32(pair.encode('utf-8')):08x}\n"


def _read_seen(lang: str) -> dict[str, str]:
    """The words remembered for `lang` whose lines pass their check; opens the file for appending."""
    seen: dict[str, str] = {}
    try:
        folder = cache_folder()
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / f"{lang}.seen", os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        _APPEND[lang] = None
        return seen
    with open(os.dup(fd), "rb") as file:
        data = file.read()
    for line in data.decode("utf-8", "replace").split("\n")[:-1]:
        parts = line.split("\t")
        if len(parts) == 3 and _line(parts[0], parts[1]) == line + "\n":
            seen[parts[0]] = parts[1]
    _APPEND[lang] = fd if len(data) < SEEN_LIMIT else None
    return seen


def _remember(lang: str, word: str, lemma: str) -> None:
    """Add a line for the word (one write to a file opened for appending: processes that add at
    once do not cut into each other's lines)."""
    fd = _APPEND.get(lang)
    if fd is None or "\t" in word + lemma or "\n" in word + lemma:
        return
    try:
        os.write(fd, _line(word, lemma).encode("utf-8"))
    except OSError:
        _APPEND[lang] = None
