"""The view a corpus is read in when its spec gives none: the one the task takes.

A chunk step takes tagged tokens, so it reads ``tagged_sents`` where the corpus
offers it (else another view with tags: ``tagged_posts``, ``parsed_sents``,
``chunked_sents``, ``iob_sents``); tokenize takes texts, ``raw``; tag, stem,
lemmatize and count take tokens, ``sents`` (nps_chat's ``posts``, a word list's
``words``).  JSONL records say what they hold: the first record's fields decide
(``tokens`` and ``tags``: ``tagged_sents``; ``tokens``: ``sents``; ``text``: ``raw``),
the task only between views its fields both give.  Where nothing offered fits, the
view for tokens is chosen, and the task's check explains what would do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .catalogue import named_reader, offered_views
from .compressed import open_stream
from .reading import Corpus, view_kind
from .sources import Kind
from .spec import FORMAT_VIEWS, CorpusSpec

#: What a task needs its items to carry -> the kinds of corpus items that carry it.
TAKES: Mapping[str, tuple[Kind, ...]] = {
    "text": ("text",), "tokens": ("tokens", "tagged"), "tagged": ("tagged",)}

#: What a task needs -> the views chosen for it, best first.
PREFERRED: Mapping[str, tuple[str, ...]] = {
    "text": ("raw",),
    "tokens": ("sents", "posts", "words"),
    "tagged": ("tagged_sents", "tagged_posts", "parsed_sents", "chunked_sents", "iob_sents"),
}

#: The views a JSONL record's fields give, in the order they are chosen.
RECORD_VIEWS: Mapping[str, tuple[str, ...]] = {
    "tagged_sents": ("tokens", "tags"), "sents": ("tokens",), "raw": ("text",)}


def with_view(spec: CorpusSpec, needs: str) -> CorpusSpec:
    """``spec`` with the view chosen for a task whose items must carry ``needs``
    (``text``, ``tokens`` or ``tagged``), marked ``view_chosen``; ``spec`` itself
    when it gives a view.  Looks at the corpus -- the views its reader offers, a
    JSONL file's first record -- and raises as :meth:`Corpus.check` does for a
    corpus that is not there."""
    if spec.view is not None:
        return spec
    if spec.name is not None:
        offered: Sequence[str] = offered_views(named_reader(spec.name, spec.where))
    else:
        assert spec.format is not None
        offered = FORMAT_VIEWS[spec.format]
    kinds = {view: view_kind(replace(spec, view=view)) for view in offered}
    view = None
    if spec.format == "jsonl" and not spec.stdin:  # standard input is read once, by the run
        view = _record_choice(_first_record_views(spec), kinds, needs)
    return replace(spec, view=view or choose(kinds, needs), view_chosen=True)


def choose(kinds: Mapping[str, Kind], needs: str) -> str:
    """Of the views offered (view -> what its items carry, in ``VIEWS`` order), the
    one for a task that needs ``needs``: the first of :data:`PREFERRED` offered,
    else the first whose items fit; where none fits, the one for tokens."""
    for view in PREFERRED[needs]:
        if view in kinds:
            return view
    for view, kind in kinds.items():
        if kind in TAKES[needs]:
            return view
    if needs != "tokens":
        return choose(kinds, "tokens")
    return next(iter(kinds), "sents")


#: Views suggested only where no other fits: a tagged word or paragraph an item is
#: rarely what a chunker or tagger is meant to read.
LAST_RESORT = ("tagged_words", "tagged_paras", "chunked_paras")


def fitting(kinds: Mapping[str, Kind], needs: str) -> list[str]:
    """The views to suggest to a task that needs ``needs``, of those offered (view ->
    what its items carry): those that carry just that, but for :data:`LAST_RESORT`;
    failing those, any whose items it takes."""
    return ([view for view, kind in kinds.items() if kind == needs and view not in LAST_RESORT]
            or [view for view, kind in kinds.items() if kind in TAKES[needs]])


def _record_choice(views: Sequence[str], kinds: Mapping[str, Kind], needs: str) -> str | None:
    """The first of the views a JSONL record gives whose items fit the task, else
    the record's first; None for a record that gives none (or no record)."""
    for view in views:
        if kinds[view] in TAKES[needs]:
            return view
    return views[0] if views else None


def _first_record_views(spec: CorpusSpec) -> tuple[str, ...]:
    """The views the first record of a JSONL corpus (in the first of its files
    that has one) gives, in :data:`RECORD_VIEWS` order.  A first line that is no
    JSON object gives none: reading the corpus then names it."""
    with Corpus(replace(spec, view="sents")) as probe:  # globs and checks the files
        source = probe.source()
        encoding = spec.encoding
        for fileid in source.fileids:
            with source.reader.abspath(fileid).open() as raw, open_stream(raw) as stream:
                for line in stream:  # decompressed where the file is compressed
                    text = line.decode(encoding, errors="replace").lstrip("\ufeff").strip()
                    if not text:
                        continue
                    try:
                        record = json.loads(text)
                    except ValueError:
                        return ()
                    if not isinstance(record, dict):
                        return ()
                    return tuple(view for view, keys in RECORD_VIEWS.items()
                                 if all(key in record for key in keys))
    return ()
