"""``ef_hs_hints``: ranked HS-code hints for each product ``ef_products`` found.

Thin on purpose: the hinting itself (nomenclature, lexicon, encoder, ranker, calibration) is
``nlp.hs``; this component only asks it, once per distinct product phrase. Phrases repeat a
great deal across firms ("nitrile gloves"), so ``pipe`` gathers a batch of docs, asks the
hinter only for phrases it has not seen (a bounded cache per process), then hands the answers
back: the encoder embeds each repeated phrase once.

The hinter is a registered function (``ef.hs_hinter.v1`` loads ``nlp.hs.hinter.get_hinter``
lazily, on first use), so a test can put a small fake in its place through the config. When
``nlp.hs`` is missing or fails to load, docs get no hints and ``doc._.ef_hs_status`` says why.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch, registry

if not Doc.has_extension("ef_hs_hints"):
    Doc.set_extension("ef_hs_hints", default=None)
if not Doc.has_extension("ef_hs_status"):
    Doc.set_extension("ef_hs_status", default="")


class LazyHinter:
    """Calls ``nlp.hs.hinter.get_hinter()`` the first time hints are asked for."""

    def __init__(self, loader: Callable[[], object]):
        self._loader = loader
        self._hinter = None
        self.error = ""

    def hint(self, texts: list[str], top: int = 5) -> list[list[dict]]:
        if self._hinter is None and not self.error:
            try:
                self._hinter = self._loader()
            except Exception as exc:  # noqa: BLE001 - reported per doc, extraction goes on
                self.error = f"HS hinter unavailable: {type(exc).__name__}: {exc}"
        if self._hinter is None:
            raise RuntimeError(self.error)
        return self._hinter.hint(texts, top=top)


@registry.misc("ef.hs_hinter.v1")
def hs_hinter() -> LazyHinter:
    """The project's HS hinter (``nlp.hs.hinter.get_hinter``), loaded on first use."""

    def load():
        from nlp.hs.hinter import get_hinter

        return get_hinter()

    return LazyHinter(load)


@Language.factory(
    "ef_hs_hints",
    requires=["doc._.ef_products"],
    assigns=["doc._.ef_hs_hints"],
    default_config={"hinter": {"@misc": "ef.hs_hinter.v1"}, "top": 5, "cache_size": 200_000},
)
def make_hs_hints(nlp: Language, name: str, hinter, top: int, cache_size: int):
    return HSHints(name, hinter=hinter, top=top, cache_size=cache_size)


class HSHints:
    def __init__(self, name: str, *, hinter, top: int = 5, cache_size: int = 200_000):
        self.name = name
        self.hinter = hinter
        self.top = top
        self.cache_size = cache_size
        self.cache: OrderedDict[str, list[dict]] = OrderedDict()
        self.asked = 0  # phrases sent to the hinter (cache misses)
        self.served = 0  # phrases answered (hits + misses)

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            self._hint_batch(batch)
            yield from batch

    def _hint_batch(self, batch: list[Doc]) -> None:
        wanted: list[str] = []
        seen: set[str] = set()
        for doc in batch:
            for item in doc._.ef_products or []:
                phrase = item["product"]
                if phrase not in self.cache and phrase not in seen:
                    seen.add(phrase)
                    wanted.append(phrase)
        status = ""
        if wanted:
            try:
                answers = self.hinter.hint(wanted, top=self.top)
                if len(answers) != len(wanted):
                    raise RuntimeError(f"HS hinter returned {len(answers)} answers for {len(wanted)} texts")
                self.asked += len(wanted)
                for phrase, hints in zip(wanted, answers):
                    self.cache[phrase] = list(hints or [])[: self.top]
                while len(self.cache) > self.cache_size:
                    self.cache.popitem(last=False)
            except Exception as exc:  # noqa: BLE001 - no hints, with the reason, never a crash
                status = str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}"
        for doc in batch:
            hints = {}
            for item in doc._.ef_products or []:
                phrase = item["product"]
                if phrase in self.cache:
                    hints[phrase] = self.cache[phrase]
                    self.served += 1
            doc._.ef_hs_hints = hints
            doc._.ef_hs_status = status
