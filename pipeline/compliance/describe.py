"""compliance.yaml's rules in words a marketer understands, for `pipeline rules`."""

from __future__ import annotations

from pipeline.compliance.rules import ANY, ClaimRule, Disclaimer, Rules

SPECIAL = {"<num>": "a number", "<pct>": "a percentage", "<name>": "a person's name", "...": "\u2026"}


def pattern(source: str, slots: dict) -> str:
    """'better|safer than ... {care}' -> 'better/safer than … [surgery, cortisone, …]'."""
    out = []
    for item in source.split():
        optional = item.endswith("?") and len(item) > 1
        item = item[:-1] if optional else item
        parts = []
        for part in item.split("|"):
            if part in SPECIAL:
                parts.append(SPECIAL[part])
            elif part.startswith("{") and part.endswith("}"):
                phrases = list(slots.get(part[1:-1], ()))
                parts.append("[" + ", ".join(phrases[:3]) + (", \u2026" if len(phrases) > 3 else "") + "]")
            else:
                parts.append(part.replace("-", " ") if "|" in item else part)
        word = "/".join(parts)
        out.append(f"({word})" if optional else word)
    return " ".join(out)


def disclaimer(d: Disclaimer) -> list[str]:
    where = ", ".join(d.channels)
    if d.always:
        when = "every article"
    else:
        parts = []
        if d.kinds:
            parts.append("articles declared as " + ", ".join(f"`kind: {k}`" for k in d.kinds)
                         + " (or that read like a patient story)")
        if d.tags:
            parts.append("articles tagged " + ", ".join(d.tags))
        if d.mentioned:
            parts.append("articles that mention " + "; ".join(
                ("" if lang == ANY else f"{lang}: ") + ", ".join(pattern(p, {}) for p in phrases)
                for lang, phrases in d.mentioned))
        when = "; ".join(parts)
    lines = [f"  {d.id}  [{where}]  on {when}"]
    lines += [f"      short ({'site language' if lang == ANY else lang}): {short}" for lang, short in d.shorts]
    return lines


def rule(r: ClaimRule, slots_by_lang: dict) -> list[str]:
    effect = "blocks publishing" if r.level == "error" else "warns"
    if r.substantiate:
        effect += " until the article cites evidence and names a clinician reviewer"
    lines = [f"  {r.level:<7} {r.id}: {effect}"]
    for lang, phrases in r.phrases:
        lines.append(f"      catches{_in(lang)}: " + ", ".join(f'"{p}"' for p in phrases) + " (and their other forms)")
    for lang, patterns in r.patterns:
        slots = slots_by_lang.get(lang, {})
        lines.append(f"      also{_in(lang)}: " + "; ".join(pattern(p, slots) for p in patterns))
    for lang, patterns in r.exceptions:
        slots = slots_by_lang.get(lang, {})
        lines.append(f"      fine{_in(lang)}: " + "; ".join(pattern(p, slots) for p in patterns))
    lines.append("      why: " + r.message.replace('"{match}"', "it").replace("{match}", "it"))
    if r.suggest:
        lines.append(f"      say instead: {r.suggest}")
    return lines


def _in(lang: str) -> str:
    return "" if lang == ANY else f" ({lang})"


def rules_text(rules: Rules) -> str:
    slots = {lang: dict(data).get("slots", {}) for lang, data in rules.languages}
    lines = ["Disclaimers (placed on every channel listed, in the article's language; a missing one "
             "fails the build):"]
    for d in rules.disclaimers:
        lines += disclaimer(d)
    lines.append("Claim rules (whole sentences are read; a claim that is negated, as in \"we can't promise "
                 "a cure\", is not flagged):")
    for r in rules.claims:
        lines += rule(r, slots)
    return "\n".join(lines)
