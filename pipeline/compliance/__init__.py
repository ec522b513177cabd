"""Compliance: the rules staff edit (rules.py), what a reader sees of each artifact (extract.py),
and the checks over sources and rendered artifacts (checker.py)."""
