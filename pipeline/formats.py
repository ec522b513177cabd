"""Machine- and human-readable renderings of findings and rules for the CLI (pure functions)."""

from __future__ import annotations

import json

from pipeline.compliance.rules import Rules
from pipeline.errors import Finding, count_findings


def findings_json(findings: list[Finding]) -> str:
    """`{"findings": [...], "errors": N, "warnings": N}`; accepted findings are listed, not counted."""
    items = [{
        "rule": f.rule,
        "severity": f.severity,
        "path": f.location.path,
        "line": f.location.line,
        "column": f.location.col,
        "channel": f.channel,
        "artifact": f.artifact,
        "message": f.message,
        "accepted": f.accepted,
    } for f in findings]
    errors, warnings, _ = count_findings(findings)
    return json.dumps({"findings": items, "errors": errors, "warnings": warnings}, indent=2, ensure_ascii=False)


def rules_json(rules: Rules) -> str:
    data = {
        "disclaimers": [{"id": d.id, "text": d.text, "short": d.short, "texts": dict(d.texts),
                         "shorts": dict(d.shorts), "channels": list(d.channels), "when": d.when}
                        for d in rules.disclaimers],
        "rules": [{"id": r.id, "level": r.level, "message": r.message, "phrases": dict(r.phrases),
                   "patterns": dict(r.patterns), "except": dict(r.exceptions),
                   "suggest": r.suggest, "substantiate": r.substantiate} for r in rules.claims],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def rules_text(rules: Rules) -> str:
    from pipeline.compliance.describe import rules_text as text
    return text(rules)
