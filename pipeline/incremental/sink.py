"""Where a build's rendered artifacts go: checked, then written to the staging folder, or adopted
from the last build's records (by hash, with their findings and checks) when what they show is
unchanged and their bytes are still on disk."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Iterable

from pipeline import article_stage
from pipeline.compliance.checker import Check, artifact_lookup, check_made
from pipeline.compliance.exports import check_exports
from pipeline.errors import Finding, PipelineError
from pipeline.incremental import cache
from pipeline.incremental.records import Artifacts, OutputRecord, Records, UnitRecord, output
from pipeline.model import Artifact, Reads, Site
from pipeline.parallel import imap_ordered, map_ordered
from pipeline.writer.paths import PathCheck
from pipeline.writer.staging import Staging

UNIT_WINDOW = 64  # articles per window of workers: two windows' outputs are held until written
BATCH = 1024  # site-wide artifacts checked (in parallel) and written together; bounds what is held in memory


class Sink:
    """Where rendered artifacts go: checked for disclaimers and export rules, then written to the
    staging folder and kept without their content; or, with no staging folder, kept whole in
    memory. With a staging folder, an output whose record matches (same key, bytes still on disk)
    is adopted by hash with its recorded findings and checks instead of being made again."""

    def __init__(self, site: Site, records: Records, writing: bool, checking: bool = False):
        """`writing`: the build has an output folder, whose Staging is set as `staging` before
        the articles are made (see _run)."""
        self.site, self.records = site, records
        self.staging: Staging | None = None
        self.checking = checking   # see run: records taken without their files, artifacts kept without content
        self.paths = PathCheck() if not writing else None   # else the staging folder's
        self.lookup = artifact_lookup(site)
        self.artifacts = Artifacts()
        self.findings: list[Finding] = []
        self.repeated: list[Finding] = []   # the findings of articles adopted from their records
        self.checks: list[Check] = []   # of the site-wide outputs (an article's own are in its record)
        self._batch: list = []   # (artifact, key, slot, check) made and not yet checked
        self._slots: list = []   # per site-wide group: its [(findings, checks)]
        # What this build made and what it took from the records (see pipeline.incremental.work).
        self.rendered: list[str] = []   # sources of the articles whose own outputs were made
        self.made: list[str] = []       # paths of the site-wide files made
        self.reused = 0                 # site-wide files taken from the records
        self.streamed = False           # the report written (else kept as the last build wrote it)

    def _adopted(self, outputs) -> bool:
        """Stage outputs an earlier build wrote, if their bytes are all still on disk (when
        checking, nothing is staged: a record stands for its outputs' findings on its own)."""
        if self.checking:
            self._refuse(self.paths.known_problems(outputs))
        elif self.staging is None or not self.staging.adopt_all(outputs):
            return False
        self.artifacts.adopt(outputs)
        return True

    def articles(self, context, keys: list[str]) -> list[UnitRecord]:
        """Every article's own outputs, in the order of site.articles; their records. `keys`:
        article_stage.keys(context)."""
        site, records = self.site, self.records
        made: list = [None] * len(site.articles)
        todo = []
        for index, article in enumerate(site.articles):
            record = records.units.get(article.source)
            if record is not None and record.key == keys[index] and self._adopted(record.outputs):
                made[index] = record
                records.hits += 1
                cache.current().used.extend(record.cache_keys)   # the cache keeps what the record stands for
            else:
                todo.append(index)
                self.rendered.append(article.source)
                if record is not None:   # superseded: not held beside its successor (a template edit
                    records.units[article.source] = None   # renders them all, so all would be held twice)
                    cache.current().dropped += record.cache_keys   # and the cache keeps them only if used
        failed = []
        for index, result in zip(todo, imap_ordered(article_stage.make, todo, context, window=UNIT_WINDOW)):
            if result.failed:
                failed += result.findings
                continue
            outputs = []
            for artifact in result.artifacts:
                outputs.append(output(artifact))
                self._put(artifact)
            made[index] = UnitRecord.of(keys[index], tuple(outputs), result.findings, result.checks, result.claims,
                                        result.posts, result.cache_keys)
        if failed:
            raise PipelineError(sorted(failed, key=Finding.sort_key))
        rendered = set(todo)
        for index, (article, record) in enumerate(zip(site.articles, made)):
            records.new_units[article.source] = record
            self.findings += record.findings
            if index not in rendered:
                self.repeated += record.findings
        return made

    def planned(self, groups, check: bool = True) -> None:
        """Site-wide outputs: ([(path, what it shows)], make) pairs, what it shows declared
        (model.Reads) or already a key; adopted when every path's record has that key and its
        bytes are on disk, else made and checked. Findings and checks are kept in the order of
        the groups, however each was had."""
        for declared, make in groups:
            pairs = [(path, cache.key(shown) if isinstance(shown, Reads) else shown) for path, shown in declared]
            slot: list = []
            self._slots.append(slot)
            old = [self.records.outputs.get(path) for path, _ in pairs]
            if pairs and all(r is not None and k is not None and r.key == k for r, (_, k) in zip(old, pairs)) \
                    and self._adopted([r.output for r in old]):
                self.records.hits += 1
                self.reused += len(old)
                for record in old:
                    slot.append((record.findings, record.checks))
                    self.records.new_outputs[record.output[0]] = record
                continue
            keys = dict(pairs)
            for artifact in make():
                self._batch.append((artifact, keys.get(artifact.path), slot, check))
            if len(self._batch) >= BATCH:
                self.flush()

    def flush(self) -> None:
        """Check the made site-wide artifacts (in parallel) and write them. Findings are kept with
        each artifact's record, so an adopted output brings them back: its disclaimer checks (when
        `check`) and, for a scheduling export, Hootsuite's rules."""
        batch, self._batch = self._batch, []
        readable = [artifact for artifact, _, _, check in batch if artifact.for_readers and check]
        results = dict(zip((a.path for a in readable), map_ordered(check_made, readable, (self.site, self.lookup),
                                                                       probe=False)))
        for artifact, key, slot, _ in batch:
            self.made.append(artifact.path)
            found, checked = results.get(artifact.path, ((), ()))
            found = tuple(found) + tuple(check_exports(self.site, [artifact]))
            slot.append((found, checked))
            if key is not None:
                self.records.new_outputs[artifact.path] = OutputRecord(key, output(artifact), found, tuple(checked))
            self._put(artifact)

    def site_results(self) -> None:
        """Add the site-wide outputs' findings and checks, in order."""
        self.flush()
        for slot in self._slots:
            for found, checked in slot:
                self.findings += found
                self.checks += checked
        self._slots = []

    def stream(self, artifact: Artifact, pieces: Iterable[bytes], written: str = "") -> str:
        """Write an artifact that needs no check (the report) from its content in pieces; or,
        given the hash of those bytes as an earlier build `written` them, adopt its file if that
        is still on disk. Returns the hash of its content."""
        if not (written and self._adopted([output(artifact.without_content(written))])):
            self._stream(artifact, pieces)
            self.streamed = True
        return self.artifacts[-1].sha256

    def _stream(self, artifact: Artifact, pieces: Iterable[bytes]) -> None:
        if self.staging is not None:
            self.staging.add_pieces(artifact, pieces)
            self.artifacts.append(artifact.without_content(self.staging.staged[artifact.path][0]))
        elif self.checking:   # rendered (a template error shows), hashed, not held
            self._refuse(self.paths.problems(artifact))
            digest = hashlib.sha256()
            for piece in pieces:
                digest.update(piece)
            self.artifacts.append(artifact.without_content(digest.hexdigest()))
        else:
            self._put(replace(artifact, content=b"".join(pieces)))

    def _put(self, artifact: Artifact) -> None:
        if self.staging is not None:
            self.staging.add(artifact)
            artifact = artifact.without_content()
        else:   # the paths a build would refuse, refused here too
            self._refuse(self.paths.problems(artifact))
            if self.checking:
                artifact = artifact.without_content()
        self.artifacts.append(artifact)

    @staticmethod
    def _refuse(problems) -> None:
        problems = list(problems)
        if problems:
            raise PipelineError(problems)
