"""Serial drop-ins for NLTK objects, on the exact fast paths the workers use.

No gateways: research code swaps one import and gets the same output sooner::

    from nlp_parallel.fast import PerceptronTagger   # for nltk.tag.PerceptronTagger

Why the output is NLTK's is argued in :mod:`nlp_parallel.remote_tasks.tag`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nltk.tag import perceptron

from .remote_tasks.tag import ExactPerceptron, NumpyPerceptron, fast_path


class PerceptronTagger(perceptron.PerceptronTagger):
    """NLTK's ``PerceptronTagger`` (same constructor, model loading and training)
    whose ``tag`` gives the same tags through
    :class:`~nlp_parallel.remote_tasks.tag.NumpyPerceptron` where numpy can be imported,
    else :class:`~nlp_parallel.remote_tasks.tag.ExactPerceptron`.

    ``use_numpy=False`` keeps to the pure-Python path.  The fast path is built at the
    first ``tag`` after the model is loaded, decoded or trained.  ``tag`` with
    ``return_conf`` or without ``use_tagdict``, a model the fast path does not serve
    (see :meth:`ExactPerceptron.serves`) and tokens that are not a list or tuple go to
    NLTK's own ``tag``.  Change ``model.weights`` in place and
    call :meth:`reset` before tagging again.
    """

    def __init__(self, load: bool = True, lang: str = "eng", loc: Any = None, *,
                 use_numpy: bool = True) -> None:
        self.use_numpy = use_numpy
        self._exact: ExactPerceptron | NumpyPerceptron | None = None
        self._served: bool | None = None
        super().__init__(load=load, lang=lang, loc=loc)

    def reset(self) -> None:
        """Forget the fast path, to build it again from the model as it is now."""
        self._exact = None
        self._served = None

    def decode_json_params(self, params: Iterable[Any]) -> None:
        super().decode_json_params(params)
        self.reset()

    def train(
        self, sentences: Iterable[Any], save_loc: Any = None, nr_iter: int = 5
    ) -> None:
        self.reset()
        super().train(sentences, save_loc=save_loc, nr_iter=nr_iter)
        self.reset()

    def tag(
        self, tokens: Any, return_conf: bool = False, use_tagdict: bool = True
    ) -> list[Any]:
        if return_conf or not use_tagdict or not isinstance(tokens, (list, tuple)):
            return super().tag(tokens, return_conf, use_tagdict)
        if self._served is None:
            self._exact = fast_path(self, self.use_numpy)
            self._served = self._exact is not None
        if self._exact is None:
            return super().tag(tokens, return_conf, use_tagdict)
        return list(zip(tokens, self._exact.tags(list(tokens))))


__all__ = ["PerceptronTagger"]
