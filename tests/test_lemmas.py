"""The lemma dictionaries and the words seen, as kept between processes (pipeline/lemmas.py): the
same lemmas as simplemma's own, from a fresh cache, a kept one, a damaged one or none at all."""

import os
import subprocess
import sys
from pathlib import Path

import simplemma

WORDS = {"en": ["cured", "healing", "relieves", "patients", "worse", "xyzzyed"],
         "es": ["curó", "aliviando", "pacientes", "mejores"]}
PROGRAM = ("import json, sys\nfrom pipeline.lemmas import cache_folder, lemmatize\n"
           "words = json.loads(sys.argv[1])\n"
           "lemmas = {lang: [lemmatize(w, lang) for w in ws] for lang, ws in words.items()}\n"
           "print(json.dumps([str(cache_folder()), lemmas, 'simplemma' in sys.modules]))")


def lemmas_in_a_new_process(cache_home: Path) -> tuple[Path, dict, bool]:
    """(the cache folder, the lemmas of WORDS, whether simplemma was imported to find them)."""
    import json
    done = subprocess.run([sys.executable, "-c", PROGRAM, json.dumps(WORDS)], capture_output=True, text=True,
                          env={**os.environ, "XDG_CACHE_HOME": str(cache_home)}, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    folder, lemmas, imported = json.loads(done.stdout)
    return Path(folder), lemmas, imported


def simplemmas() -> dict:
    return {lang: [simplemma.lemmatize(w, lang=lang) for w in ws] for lang, ws in WORDS.items()}


def test_lemmas_are_simplemmas_whether_the_tries_are_built_kept_or_damaged(tmp_path):
    folder, built, _ = lemmas_in_a_new_process(tmp_path)
    assert folder.is_relative_to(tmp_path) and (folder / "en.dic").is_file() and (folder / "es.dic").is_file()
    assert built == simplemmas()
    kept_at = (folder / "en.dic").stat().st_mtime_ns
    for seen in folder.glob("*.seen"):
        seen.unlink()   # (else the words are known without the tries)
    _, kept, _ = lemmas_in_a_new_process(tmp_path)
    assert kept == built and (folder / "en.dic").stat().st_mtime_ns == kept_at   # read, not built again
    data = bytearray((folder / "en.dic").read_bytes())
    (folder / "en.dic").write_bytes(bytes(data[: len(data) // 3]))   # a truncated file
    (folder / "en.seen").unlink()
    _, mended, _ = lemmas_in_a_new_process(tmp_path)
    assert mended == built
    assert (folder / "en.dic").stat().st_size == len(data)   # built again


def test_without_a_cache_folder_the_lemmas_are_still_simplemmas(tmp_path):
    (tmp_path / "clinic-pipeline").write_text("a file where the cache folder would be")
    _, lemmas, _ = lemmas_in_a_new_process(tmp_path)
    assert lemmas == simplemmas()


def test_words_seen_by_an_earlier_process_are_lemmatised_without_loading_simplemma(tmp_path):
    folder, first, imported = lemmas_in_a_new_process(tmp_path)
    assert imported and first == simplemmas()
    _, again, imported = lemmas_in_a_new_process(tmp_path)
    assert again == first and not imported
    lines = (folder / "en.seen").read_text("utf-8").splitlines()
    assert sorted(line.split("\t")[0] for line in lines) == sorted(WORDS["en"])   # each word once


def test_a_damaged_line_of_the_words_seen_is_ignored_and_the_word_looked_up_again(tmp_path):
    folder, first, _ = lemmas_in_a_new_process(tmp_path)
    seen = folder / "en.seen"
    lines = seen.read_text("utf-8").splitlines(keepends=True)
    cured = next(line for line in lines if line.startswith("cured\t"))
    healing = next(line for line in lines if line.startswith("healing\t"))
    rest = [line for line in lines if line not in (cured, healing)]
    # "cured" with another lemma (its check no longer matches), and "healing" cut short and run
    # into the next line, as a write cut off by a crash and the next process's append would leave
    # it: "heal" + "ing\t..." is a line for "healing" with the check of another pair.
    wrong = cured.replace("\tcure\t", "\tcured-wrong\t")
    assert wrong != cured
    seen.write_text("".join(rest) + wrong + "heal" + "ing\tcure\t" + cured.rsplit("\t", 1)[1], "utf-8")
    _, again, imported = lemmas_in_a_new_process(tmp_path)
    assert again == first == simplemmas() and imported
