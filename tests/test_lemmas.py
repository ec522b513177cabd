"""The lemma dictionaries as kept between processes (pipeline/lemmas.py): the same lemmas as
simplemma's own, from a fresh cache, a kept one, a damaged one or none at all."""

import os
import subprocess
import sys
from pathlib import Path

import simplemma

WORDS = {"en": ["cured", "healing", "relieves", "patients", "worse", "xyzzyed"],
         "es": ["curó", "aliviando", "pacientes", "mejores"]}
PROGRAM = ("import json, sys\nfrom pipeline.lemmas import cache_folder, lemmatize\n"
           "words = json.loads(sys.argv[1])\n"
           "print(json.dumps([str(cache_folder()), {lang: [lemmatize(w, lang) for w in ws] for lang, ws in words.items()}]))")


def lemmas_in_a_new_process(cache_home: Path) -> tuple[Path, dict, str]:
    import json
    done = subprocess.run([sys.executable, "-c", PROGRAM, json.dumps(WORDS)], capture_output=True, text=True,
                          env={**os.environ, "XDG_CACHE_HOME": str(cache_home)}, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    folder, lemmas = json.loads(done.stdout)
    return Path(folder), lemmas, done.stderr


def simplemmas() -> dict:
    return {lang: [simplemma.lemmatize(w, lang=lang) for w in ws] for lang, ws in WORDS.items()}


def test_lemmas_are_simplemmas_whether_the_tries_are_built_kept_or_damaged(tmp_path):
    folder, built, _ = lemmas_in_a_new_process(tmp_path)
    assert folder.is_relative_to(tmp_path) and (folder / "en.dic").is_file() and (folder / "es.dic").is_file()
    assert built == simplemmas()
    kept_at = (folder / "en.dic").stat().st_mtime_ns
    _, kept, _ = lemmas_in_a_new_process(tmp_path)
    assert kept == built and (folder / "en.dic").stat().st_mtime_ns == kept_at   # read, not built again
    data = bytearray((folder / "en.dic").read_bytes())
    (folder / "en.dic").write_bytes(bytes(data[: len(data) // 3]))   # a truncated file
    _, mended, _ = lemmas_in_a_new_process(tmp_path)
    assert mended == built
    assert (folder / "en.dic").stat().st_size == len(data)   # built again


def test_without_a_cache_folder_the_lemmas_are_still_simplemmas(tmp_path):
    (tmp_path / "clinic-pipeline").write_text("a file where the cache folder would be")
    _, lemmas, _ = lemmas_in_a_new_process(tmp_path)
    assert lemmas == simplemmas()
