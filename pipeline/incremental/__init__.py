"""The incremental build: everything that lets a build reuse what an earlier one made, kept apart
from the stages and channels. Channels declare what each output shows (model.Reads); this package
alone turns declarations into keys (cache.key), adopts what the last build made (sink), stores
results (cache: the build cache; records: what each article and site-wide file made, and their
findings), assembles the report from the sections it already holds (report_sections), answers a
build with nothing to do (uptodate), surveys the output folder without walking it (survey), saves
what only the next build reads after the command returns (saves), keeps the build's account of its work (work) and
tunes the collector and allocator (memory). No module under pipeline/channels/ or
pipeline/compliance/ imports it."""
