"""The part a text names and the whole it belongs to ("snow blower part" -> "snow blower").

Why a module of its own: the subheading picker's ``part`` feature (``subheading._part_cue``)
asks whether a text is about a part, so a subheading that keeps a heading's parts ("Taps, cocks,
valves ...; parts thereof") can be preferred to the whole article. The reader was written for the
sixth round's parts-of-a-machine heading rule (docs/nlp.md, "Parts and sets"); that rule lowered
CBP validation and was deleted, and this text reader is what outlived it.

Only the words of the text are read; which heading a whole's parts go to is not decided here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .materials import _WORD_RE as _MATERIAL_WORD_RE
from .materials import material_mask

# A part named with its whole. Patterns (lower case), first match wins:
#   "parts / components / accessories of|for (use in|with) <whole>"
#   "as a part / component of <whole>"
#   "<whole> part(s) / component(s)" ("snow blower part", "washing machine parts")
#   "used / designed / intended ... in|on|with|for <whole>", "for use with <whole>": no part word,
#   so it is a weaker cue (``PartsCue.explicit`` False; the picker gives it half weight). A plain
#   "<article> for <whole>" is not read: in firm text it names the market far more often than a
#   machine ("rugged laptops for field crews", "titanium bar for aerospace" matched 8708 and 8807).
_PART_NOUN = r"(?:spare parts?|replacement parts?|parts?|components?|accessories|accessory|spares)"
_DET = r"(?:(?:an?|the|all|any|most|various|such|certain|their|its)\s+)*"
_WHOLE = r"([a-z0-9][a-z0-9 /'&.-]{2,80}?)"
_WHOLE_END = (r"(?=\s*(?:[,;:()]|$|\s(?:and|or|which|that|consisting|comprising|composed|made|of|"
              r"including|includes|with|to|from|by|in order|as|being|having|used|designed|for)\b))")
_PARTS_OF = re.compile(r"\b" + _PART_NOUN + r"\s+(?:of|for|to fit|fitting)\s+(?:use\s+(?:in|with|on)\s+)?"
                       + _DET + _WHOLE + _WHOLE_END)
_AS_PART = re.compile(r"\bas\s+(?:an?\s+)?(?:integral\s+)?(?:part|component)s?\s+of\s+" + _DET + _WHOLE + _WHOLE_END)
_WHOLE_PART = re.compile(r"(?:^|[,;:(]\s*|\b(?:an?|the|of|for)\s+)([a-z][a-z0-9 /'&-]{2,60}?)\s+"
                         + _PART_NOUN + r"\b")
_USED_IN = re.compile(r"\b(?:(?:used|designed|intended|suitable|made|built)\s+(?:solely\s+|principally\s+|"
                      r"specifically\s+|exclusively\s+)*(?:for\s+use\s+)?(?:in|on|with|for)|for\s+use\s+(?:in|on|with))\s+"
                      + _DET + _WHOLE + _WHOLE_END)
# "part" that names no part: "in part", "part number", "two-part", "parts per million".
_NOT_PART = re.compile(r"\b(?:in|for the most|on the)\s+parts?\b|\bparts?\s+(?:no\b|number|#|per\s+(?:million|billion))"
                       r"|\w-(?:parts?|components?)\b|\b(?:two|three|four|multi)\s+parts?\b", re.I)
# Words before "parts" that describe the parts, not a whole ("related parts", "plastic parts").
_PART_ADJ = re.compile(r"(?:^|\s)(?:related|working|moving|wear|wearing|spare|replacement|small|other|various|"
                       r"machined|precision|custom|oem|aftermarket|stamped|cast|forged|molded|moulded|turned|"
                       r"assorted|loose|individual|component|automotive|auto|body)$")
# A whole whose last word names an activity or a field, not a thing.
_ACTIVITY = re.compile(r"(?:ion|ment|ing|ance|ence)s?$|\b(?:purposes?|industry|industries|applications?|uses?|"
                       r"procedures?|operations?|processes|work|works|sector|trade|market|manufacture)$")
_LEAD_DET = re.compile(r"^" + _DET)
_WEAK_WHOLE = re.compile(r"^(?:use|uses|a|an|the|other|this|these|such|all|various|machine|machines|"
                         r"equipment|apparatus|vehicles?|industry|industrial|automotive industry|other materials?|materials?)$")


@dataclass
class PartsCue:
    """What a text says about a part: the whole it belongs to and how it was said."""

    whole: str
    explicit: bool  # a part word ("part", "component") was said, not only "used in"


def parts_cue(text: str) -> PartsCue | None:
    """The whole a text's part belongs to ("snow blower part" -> "snow blower"), or None.

    Only the words of the text: whether the whole is a machine whose parts have a heading is
    for the caller to decide.
    """
    low = _NOT_PART.sub(" ", (text or "").lower())
    for rx, explicit in ((_PARTS_OF, True), (_AS_PART, True), (_WHOLE_PART, True), (_USED_IN, False)):
        for m in rx.finditer(low):
            whole = re.sub(r"\s+", " ", m.group(1)).strip(" -/.'")
            whole = _LEAD_DET.sub("", whole).strip()
            if rx is _WHOLE_PART:  # "<whole> parts": the words just before "parts", after any preposition
                whole = re.split(r"\b(?:with|of|for|in|on|from|and|or)\s+", whole)[-1].strip()
                if _PART_ADJ.search(whole):
                    continue
            if material_mask(whole) and not re.search(r"[a-z]{3}", _MATERIAL_WORD_RE.sub(" ", whole)):
                continue  # "parts of stainless steel": the part's material, not its whole
            if _ACTIVITY.search(whole):
                continue  # "used in the manufacture of ...", "for agricultural purposes": a use, not a whole
            if len(whole) >= 3 and not _WEAK_WHOLE.match(whole):
                return PartsCue(whole, explicit)
    return None


