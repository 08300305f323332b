"""Driver-side model loading: NLTK models as the plain data workers receive.

Models travel as the JSON NLTK itself stores, never pickled.  NLTK's files are
read through ``nltk.data`` (so its path sandbox applies) and passed on as
:class:`~nlp_parallel.engine.RawJSON`: the driver never parses them.
"""

from __future__ import annotations

import nltk.data
from nltk.tag.perceptron import PerceptronTagger

from .engine import RawJSON
from .errors import ConfigError, NlpParallelError


class ResourceMissing(NlpParallelError, LookupError):
    """An NLTK resource is not installed where NLTK looks for it."""

    def __init__(self, resource: str, package: str) -> None:
        super().__init__(
            f"NLTK resource {resource!r} is not installed; install it with "
            f"`python -m nltk.downloader {package}` or point NLTK_DATA at a directory "
            f"that has it"
        )
        self.resource = resource
        self.package = package


def perceptron_params(lang: str = "eng") -> RawJSON:
    """The ``[weights, tagdict, classes]`` params of NLTK's stored perceptron model.

    Equal to ``PerceptronTagger(lang=lang).encode_json_obj()`` once parsed.
    Raises :class:`ResourceMissing` when the model is not installed.
    """
    package = f"averaged_perceptron_tagger_{lang}"
    try:
        files = PerceptronTagger(load=False).param_files(lang)
    except ValueError as exc:
        raise ConfigError(f"invalid tagger language {lang!r}: {exc}") from None
    try:
        root = nltk.data.find(f"taggers/{package}/")
    except LookupError:
        raise ResourceMissing(f"taggers/{package}", package) from None
    parts = []
    for name in files:
        with nltk.data.open_datafile(root, name) as f:
            parts.append(f.read())
    return RawJSON("[" + ",".join(parts) + "]")
