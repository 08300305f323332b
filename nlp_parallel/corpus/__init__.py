"""The corpus a job reads: an NLTK corpus by name, or the user's own files by glob.

:func:`parse_corpus` validates a job file's ``corpus:`` mapping into a frozen
:class:`CorpusSpec` (static checks only); :func:`open_corpus` makes a :class:`Corpus`
of it, whose :meth:`~Corpus.check` finds every mistake that can be found without
reading the corpus and whose :meth:`~Corpus.items` streams plain-data records in
corpus order.

The package, from the ground up: :mod:`.spec` (the spec and its validation),
:mod:`.catalogue` (the installed NLTK corpora and the views each reader offers),
:mod:`.compressed` (gzip, bzip2 and xz, told by their first bytes),
:mod:`.sources` (what streams the records of one file, or of standard input: NLTK's
readers, JSONL, CSV and TSV) and
:mod:`.reading` (the :class:`Corpus`, which ties them together and holds the path
sandbox authorization of the user's files) and :mod:`.choice` (the view a spec
without one is read in: the one its task takes).  :mod:`.shards` plans a corpus as byte
ranges of its files, for workers to read with :mod:`nlp_parallel.shard_reader`.
"""

from __future__ import annotations

from .catalogue import installed_corpora
from .choice import with_view
from .reading import Corpus, open_corpus
from .sources import Kind, Record
from .spec import FORMAT_VIEWS, FORMATS, KEYS, VIEWS, CorpusSpec, parse_corpus

__all__ = [
    "FORMATS",
    "FORMAT_VIEWS",
    "KEYS",
    "VIEWS",
    "Corpus",
    "CorpusSpec",
    "Kind",
    "Record",
    "installed_corpora",
    "open_corpus",
    "parse_corpus",
    "with_view",
]
