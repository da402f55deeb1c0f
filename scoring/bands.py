"""Five bands with one plain sentence each, as the UK trade department's exporter-propensity
model shows them: a number alone invites false precision; a band and a sentence say what to do.
"""

from __future__ import annotations

# (lowest score in the band, band, sentence), highest band first.
BANDS = [
    (80.0, "Very high", "Looks very much like firms that already export, and its products already leave the Port of LA in volume: call first."),
    (60.0, "High", "Looks like many exporting firms and has markets that fit through the port: a strong prospect."),
    (40.0, "Medium", "Some signs of export readiness or of markets that fit, but not both strongly: worth a conversation."),
    (20.0, "Low", "Few signs yet of export readiness or of markets the port serves for its products."),
    (0.0, "Very low", "Little of what we know suggests export readiness now: revisit when more is known."),
]
LOW_CONFIDENCE_NOTE = "Low confidence: too little is known about this firm for the score to mean much."


def band_for(score: float) -> tuple[str, str]:
    """The band and its sentence for a score from 0 to 100."""
    if score is None or score != score:
        raise ValueError("a score is needed to find a band")
    for floor, band, sentence in BANDS:
        if score >= floor:
            return band, sentence
    return BANDS[-1][1], BANDS[-1][2]
