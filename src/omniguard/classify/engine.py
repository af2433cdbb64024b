"""Presidio with no downloaded model: a blank spaCy pipeline built in memory.

``AnalyzerEngine()`` with no arguments downloads ``en_core_web_lg`` at run time, and no Chinese
spaCy model is installable at all, so omniguard builds its own engine (configuration C of
``notes/classification.md``):

* a blank ``xx`` pipeline whose tokenizer splits CJK runs from ASCII runs, so ``身份证号:1101…``
  becomes ``身份证号 | : | 1101…`` (``spacy.blank("zh")`` splits per character and the default
  tokenizer keeps the whole string as one token: either way a context word never matches);
* a component that sets ``lemma_ = lower_``: Presidio's context enhancer compares lemmas, and a
  blank pipeline leaves them empty, so context words would silently never fire;
* tldextract switched to its bundled suffix list, so the e-mail recognizer never fetches the
  Public Suffix List.

Named-entity recognition is absent by design: person names come from the surname recognizer.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import spacy
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

LANGUAGES = ("zh", "en")
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z0-9_@.+\-]+|\S")


def make_tldextract_offline() -> None:
    """Point the module-level ``tldextract.extract`` at the suffix list bundled in the wheel."""
    import tldextract

    if not getattr(tldextract.extract, "_omniguard_offline", False):
        offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        offline._omniguard_offline = True  # type: ignore[attr-defined]
        tldextract.extract = offline
        try:  # Presidio's e-mail recognizer imported the name; patch its reference too
            import presidio_analyzer.predefined_recognizers.generic.email_recognizer as em

            em.tldextract.extract = offline
        except ImportError:  # pragma: no cover - module moved in another Presidio release
            pass


class CjkRunTokenizer:
    """Tokens are runs of Han characters, runs of ASCII word characters, or single symbols;
    ``Doc.text`` equals the input so Presidio's character offsets stay exact."""

    def __init__(self, vocab: Any):
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        pos = 0
        for m in _TOKEN.finditer(text):
            self._gap(text[pos:m.start()], words, spaces)
            words.append(m.group())
            spaces.append(False)
            pos = m.end()
        self._gap(text[pos:], words, spaces)
        return Doc(self.vocab, words=words, spaces=spaces)

    @staticmethod
    def _gap(gap: str, words: list[str], spaces: list[bool]) -> None:
        if gap and words and gap[0] == " ":
            spaces[-1], gap = True, gap[1:]
        if gap:
            words.append(gap)
            spaces.append(False)

    # spaCy calls these when a pipeline is serialised; there is no state to save.
    def to_disk(self, *_a: Any, **_k: Any) -> None:
        return None

    def from_disk(self, *_a: Any, **_k: Any) -> CjkRunTokenizer:
        return self

    def to_bytes(self, *_a: Any, **_k: Any) -> bytes:
        return b""

    def from_bytes(self, *_a: Any, **_k: Any) -> CjkRunTokenizer:
        return self


@Language.component("omniguard_lower_lemma")
def lower_lemma(doc: Doc) -> Doc:
    for token in doc:
        token.lemma_ = token.lower_
    return doc


_HAN_WORD = re.compile(r"[\u3400-\u9fff]")


class MixedContextEnhancer(LemmaContextAwareEnhancer):
    """Whole-word matching for ASCII context words, substring matching for Chinese ones.

    Pitfall 5: substring matching lets the context word ``wx`` fire inside the coupon code
    ``WXAB12CD34EF``. Whole-word matching fixes that but loses Chinese context, because the
    tokenizer keeps ``客户身份证号`` as one run and ``身份证`` is only a substring of it. Han words of
    two or more characters are specific enough to match inside a run."""

    def __init__(self) -> None:
        super().__init__(context_matching_mode="whole_word")

    @staticmethod
    def _find_supportive_word_in_context(context_list: list[str], recognizer_context_list: list[str],
                                         matching_mode: str = "whole_word") -> str:
        if not context_list or not recognizer_context_list:
            return ""
        lowered = [w.lower() for w in context_list]
        whole = set(lowered)
        for word in recognizer_context_list:
            w = word.lower()
            if w in whole or (_HAN_WORD.search(w) and len(w) >= 2 and any(w in c for c in lowered)):
                return word
        return ""


class ColumnContextEnhancer(MixedContextEnhancer):
    """For column classification: the only context is the column name (passed as ``context``).

    Values of a column are analysed as one document; the words around a match are other values,
    never context, and skipping them also skips Presidio's token scan per match (quadratic in the
    document's length)."""

    def _extract_surrounding_words(self, nlp_artifacts: Any, word: str, start: int) -> list[str]:
        return []


class WholeTextTokenizer(CjkRunTokenizer):
    """One token for the whole text: the column analyzer needs no tokens (patterns run on the raw
    text, context comes from the column name), so it skips tokenizing thousands of values."""

    def __call__(self, text: str) -> Doc:
        return Doc(self.vocab, words=[text], spaces=[False])


def blank_pipeline(*, tokens: bool = True) -> Language:
    nlp = spacy.blank("xx")
    nlp.max_length = 50_000_000  # no parser or NER: long free text costs only the tokenizer
    nlp.tokenizer = CjkRunTokenizer(nlp.vocab) if tokens else WholeTextTokenizer(nlp.vocab)
    if tokens:
        nlp.add_pipe("omniguard_lower_lemma")
    return nlp


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """A SpacyNlpEngine whose ``load()`` builds blank pipelines in memory instead of loading (and
    possibly downloading) a trained model. No NER, so ``get_supported_entities`` is empty."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES, *, tokens: bool = True):
        super().__init__(models=[{"lang_code": lang, "model_name": f"omniguard-blank-{lang}"} for lang in languages])
        self._languages = languages
        self._tokens = tokens

    def load(self) -> None:
        self.nlp = {lang: blank_pipeline(tokens=self._tokens) for lang in self._languages}

    def get_supported_entities(self) -> list[str]:
        return []

    def get_supported_languages(self) -> list[str]:
        return list(self._languages)


def build_analyzer(languages: tuple[str, ...] = LANGUAGES) -> AnalyzerEngine:
    """A fresh AnalyzerEngine with the blank engine and omniguard's recognizers (no network).

    Context matching is :class:`MixedContextEnhancer`; the column classifier passes the tokens of
    a column name, so ``wechat_id`` gives the whole word ``wechat``."""
    from omniguard.classify.recognizers import build_registry

    make_tldextract_offline()
    engine = BlankSpacyNlpEngine(languages)
    engine.load()
    return AnalyzerEngine(
        nlp_engine=engine,
        registry=build_registry(languages),
        supported_languages=list(languages),
        context_aware_enhancer=MixedContextEnhancer(),
    )


@functools.lru_cache(maxsize=2)
def get_analyzer(languages: tuple[str, ...] = LANGUAGES) -> AnalyzerEngine:
    """The process-wide analyzer (building one costs about 0.3 s)."""
    return build_analyzer(languages)


@functools.lru_cache(maxsize=2)
def get_column_analyzer(languages: tuple[str, ...] = LANGUAGES) -> AnalyzerEngine:
    """The analyzer for structured columns: :func:`get_analyzer`'s recognizers, a pipeline that does
    not tokenize, and :class:`ColumnContextEnhancer` (context from the column name only). Text-like
    columns use :func:`get_analyzer`, whose in-text context words matter there."""
    base = get_analyzer(languages)
    engine = BlankSpacyNlpEngine(languages, tokens=False)
    engine.load()
    return AnalyzerEngine(nlp_engine=engine, registry=base.registry, supported_languages=list(languages),
                          context_aware_enhancer=ColumnContextEnhancer())
