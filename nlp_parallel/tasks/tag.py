"""Part-of-speech tagging: NLTK's perceptron, or a backoff chain of sequential taggers.

Models reach workers as data: the perceptron as the JSON NLTK stores, sequential
taggers as their context tables (trained here, on the driver).
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterable
from typing import Any

from nltk.tag import mapping
from nltk.tag.perceptron import PerceptronTagger
from nltk.tag.sequential import (
    AffixTagger,
    BigramTagger,
    DefaultTagger,
    NgramTagger,
    RegexpTagger,
    SequentialBackoffTagger,
    TrigramTagger,
    UnigramTagger,
)

from ..settings import RawJSON
from ..errors import ConfigError
from ..models import find, perceptron_params, training_sents
from ..options import OptionReader, did_you_mean

NAME = "tag"
MODULE = "nlp_parallel.remote_tasks.tag"
INPUT = "tokens"
SUMMARY = "part-of-speech tags for each token (NLTK's perceptron or a backoff chain)"
OPTIONS = {
    "model": "perceptron (default), a directory written by PerceptronTagger.save_to_json, "
    "or chain",
    "lang": "perceptron model language: eng (default), rus, or the name used by save_to_json",
    "tagset": "map tags to this tagset, e.g. universal",
    "source_tagset": "the model's own tagset for mapping (default en-ptb for eng, "
    "ru-rnc-new for rus)",
    "chain": "for model: chain, the taggers tried in order: "
    "{regexp: [[pattern, tag], ...]}, {default: TAG}, "
    "{unigram|bigram|trigram: TRAIN}, {ngram: N, train: TRAIN}, "
    "{affix: LENGTH, min_stem_length: N, train: TRAIN}; cutoff: N on trained ones. "
    "TRAIN: {corpus: NAME, fileids: [...], categories: [...], start: N, limit: N}",
    "exact_fast": "tag with the perceptron's exact fast path, the same tags as NLTK's "
    "PerceptronTagger.tag (default true); false runs NLTK's tag",
    "numpy": "with exact_fast, add the perceptron's scores with numpy where a worker has "
    "it, redoing in NLTK's order each prediction too close to call (default true; the "
    "same tags); false keeps the pure-Python exact path",
}
MODEL_CHOICES = ("perceptron", "chain")
SEQUENTIAL = ("regexp", "default", "unigram", "bigram", "trigram", "ngram", "affix")
#: The chain's taggers whose own key holds their training corpus.
TRAINED = ("unigram", "bigram", "trigram")


def build(options: OptionReader) -> dict[str, Any]:
    model = options.text("model", "perceptron")
    if model == "chain":
        result: dict[str, Any] = {"chain": encode_tagger(_chain(options))}
        default_source = None
    elif model == "perceptron":
        lang = options.text("lang", "eng")
        key = "lang" if options.has("lang") else "model"
        try:
            with options.loading(key):
                result = {"params": perceptron_params(lang)}
        except ConfigError as exc:
            raise options.fail(key, str(exc)) from None
        default_source = {"eng": "en-ptb", "rus": "ru-rnc-new"}.get(lang)
    elif os.path.isdir(model):
        result = {"params": _saved_perceptron(options, model)}
        default_source = "en-ptb"
    else:
        raise options.fail(
            "model", f"{model!r} is neither {' nor '.join(MODEL_CHOICES)} nor a directory"
        )
    tagset = options.string("tagset")
    if tagset is not None:
        source = options.string("source_tagset", default_source)
        if source is None:
            raise options.fail("source_tagset", "give the model's tagset to map from, "
                                                "e.g. en-ptb or en-brown")
        result["mapping"] = _tagset_mapping(options, source, tagset)
        result["strip_suffix"] = source == "ru-rnc-new"  # NLTK maps "S=m" as "S"
    result["exact_fast"] = options.boolean("exact_fast", True)
    result["numpy"] = options.boolean("numpy", True)
    return result


def _saved_perceptron(options: OptionReader, directory: str) -> RawJSON:
    """A model written by ``PerceptronTagger.save_to_json``: the files' text."""
    lang = options.string("lang")
    pattern = f"averaged_perceptron_tagger_{lang or '*'}.weights.json"
    found = sorted(glob.glob(os.path.join(glob.escape(directory), pattern)))
    if len(found) != 1:
        what = "no" if not found else "several"
        raise options.fail("model", f"{what} {pattern} in {directory}; name it with lang:")
    prefix = found[0][: -len("weights.json")]
    parts = []
    for attr in ("weights", "tagdict", "classes"):
        with open(f"{prefix}{attr}.json", encoding="utf-8") as f:
            parts.append(f.read())
    return RawJSON("[" + ",".join(parts) + "]")


def _tagset_mapping(options: OptionReader, source: str, target: str) -> dict[str, Any]:
    if target == "universal":
        with options.loading("tagset"):
            find("taggers/universal_tagset/", "universal_tagset")
        source = {"wsj": "en-ptb", "brown": "en-brown"}.get(source, source)
    missing = options.fail("tagset", f"NLTK has no mapping from {source} to {target}"
                                     f"{did_you_mean(target, ('universal',))}")
    try:
        table = mapping.tagset_mapping(source, target)
    except (LookupError, OSError):
        raise missing from None
    if not table:
        raise missing
    default = table.default_factory() if getattr(table, "default_factory", None) else None
    return {"table": dict(table), "default": default}


def _chain(options: OptionReader) -> SequentialBackoffTagger:
    """Train the chain last tagger first, each with the next as its backoff.

    NLTK drops a context from a tagger's table when its backoff already tags it
    right, so the tables depend on the backoff at training time, as in serial code.
    """
    chain = options.raw("chain")
    if not isinstance(chain, list) or not chain:
        raise options.fail("chain", "model: chain needs a non-empty list of taggers")
    backoff = None
    for index in reversed(range(len(chain))):
        step = chain[index]
        key = f"chain[{index}]"
        if not isinstance(step, dict):
            raise options.fail(key, f"expected a mapping such as {{default: NN}}, not {step!r}")
        kinds = [k for k in SEQUENTIAL if k in step]
        if len(kinds) != 1:
            raise options.fail(key, f"needs exactly one of {', '.join(SEQUENTIAL)}")
        try:
            train_key = kinds[0] if kinds[0] in TRAINED else "train"
            with options.loading(f"{key}.{train_key}"):
                backoff = _train(kinds[0], step, backoff)
        except ConfigError as exc:
            raise options.fail(key, str(exc)) from None
    return backoff


def _train(kind: str, step: dict[str, Any], backoff: Any) -> SequentialBackoffTagger:
    value = step[kind]
    allowed = {"regexp": {"regexp"}, "default": {"default"}}.get(
        kind, {kind, "train", "cutoff", "min_stem_length"} if kind == "affix"
        else {kind, "train", "cutoff"}
    )
    unknown = set(step) - allowed
    if unknown:
        raise ConfigError(f"unknown key {sorted(unknown)[0]!r}; valid: {', '.join(sorted(allowed))}")
    if kind == "default":
        if not isinstance(value, str):
            raise ConfigError("default: expected a tag string")
        return DefaultTagger(value)
    if kind == "regexp":
        try:
            return RegexpTagger([(p, t) for p, t in value], backoff=backoff)
        except (TypeError, ValueError):
            raise ConfigError("regexp: expected a list of [pattern, tag] pairs") from None
        except Exception as exc:  # RegexpTagger raises a bare Exception for a bad pattern
            raise ConfigError(f"regexp: {str(exc).splitlines()[0]}") from None
    cutoff = step.get("cutoff", 0)
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 0:
        raise ConfigError("cutoff: expected a non-negative integer")
    try:
        train = training_sents(step["train"] if kind in ("ngram", "affix") else value,
                               "tagged_sents", ("fileids", "categories"))
    except ConfigError as exc:
        raise ConfigError(f"train: {exc}") from None
    if kind == "affix":
        return AffixTagger(train, affix_length=_int(value, "affix"), cutoff=cutoff,
                           min_stem_length=_int(step.get("min_stem_length", 2), "min_stem_length"),
                           backoff=backoff)
    fixed = {"unigram": UnigramTagger, "bigram": BigramTagger, "trigram": TrigramTagger}
    if kind in fixed:
        return fixed[kind](train, cutoff=cutoff, backoff=backoff)
    return NgramTagger(_int(value, "ngram"), train, cutoff=cutoff, backoff=backoff)


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: expected an integer, not {value!r}")
    return value


def encode_tagger(tagger: Any) -> list[dict[str, Any]]:
    """A tagger and its backoff chain as JSON data the remote tag module rebuilds.

    Raises :class:`ConfigError` for a tagger that cannot be expressed as data.
    """
    steps = []
    while tagger is not None:
        steps.append(_encode_one(tagger))
        tagger = getattr(tagger, "backoff", None)
    return steps


def _encode_one(tagger: Any) -> dict[str, Any]:
    if isinstance(tagger, PerceptronTagger):
        return {"perceptron": RawJSON(json.dumps(tagger.encode_json_obj()))}
    if isinstance(tagger, DefaultTagger):
        return {"default": tagger._tag}
    if isinstance(tagger, RegexpTagger):
        return {"regexp": [[r.pattern, t] for r, t in tagger._regexps]}
    if isinstance(tagger, AffixTagger):
        length = tagger._affix_length
        return {"affix": length, "min_stem_length": tagger._min_word_length - abs(length),
                "table": _pairs(tagger._context_to_tag.items())}
    if isinstance(tagger, UnigramTagger):  # an NgramTagger whose context is the word alone
        return {"unigram": True, "table": _pairs(tagger._context_to_tag.items())}
    if isinstance(tagger, NgramTagger):
        table = [[list(tags), word, tag] for (tags, word), tag in tagger._context_to_tag.items()]
        return {"ngram": tagger._n, "table": table}
    raise ConfigError(
        f"{type(tagger).__name__} cannot be sent to workers as data; supported: "
        "PerceptronTagger, DefaultTagger, RegexpTagger, Unigram/Bigram/Trigram/NgramTagger, "
        "AffixTagger and backoff chains of them"
    )


def _pairs(items: Iterable[tuple[Any, str]]) -> list[list[Any]]:
    return [[context, tag] for context, tag in items]
