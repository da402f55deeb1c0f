"""The CLI doors: ``export-finder hs-hint`` and ``export-finder hs-eval``."""

from __future__ import annotations

import json
import sys


def hs_hint(text=None, input_file=None, top=5, out=None, register: str = "firm") -> int:
    """Print hints for TEXT (indented JSON), or one JSON line per line of ``input_file``.

    With ``--input``, every input line gives exactly one output line, in order, even when the
    line is empty (``"hints": []``); lines are read in batches so repeated texts are embedded once.
    """
    from .hinter import get_hinter

    out = out or sys.stdout
    hinter = get_hinter()
    if input_file is None:
        if text is None:
            raise ValueError("give a TEXT or --input FILE")
        hints = hinter.hint([text], top=top, register=register)[0]
        out.write(json.dumps({"text": text, "hs_edition": hinter.hs_edition, "hints": hints},
                             indent=2, ensure_ascii=False) + "\n")
        return 1
    n = 0
    batch: list[str] = []

    def flush():
        for t, hints in zip(batch, hinter.hint(batch, top=top, register=register)):
            out.write(json.dumps({"text": t, "hints": hints}, ensure_ascii=False) + "\n")
        batch.clear()

    for line in input_file:
        batch.append(line.rstrip("\r\n"))
        n += 1
        if len(batch) >= 256:
            flush()
    flush()
    return n


def hs_eval(labels, register: str = "firm") -> dict:
    """Accuracy and calibration of the hinter and of the two baselines on a labelled CSV.

    ``register="customs"`` scores ruling-style text with the customs calibration.
    """
    from .evaluate import evaluate_file

    return evaluate_file(labels, register=register)
