"""The exact fast paths give NLTK's own output: the perceptron, the stemmers, WordNet.

Every sentence of treebank, nps_chat and inaugural is tagged both ways; of
conll2000 and state_union every 4th sentence; of masc_tagged, abc and webtext every
8th, of brown and conll2002 every 8th sentence of every other file, and of
movie_reviews every 16th file -- unless ``NLP_PARALLEL_EVERY_SENTENCE=1`` asks for
every sentence of all of them (then the corpus tests take about 4 minutes on a quiet
2-core machine, several times that on a busy one).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import nltk
import pytest
import yaml
from nltk.corpus import brown, treebank
from nltk.stem import (
    ARLSTem,
    ARLSTem2,
    Cistem,
    ISRIStemmer,
    LancasterStemmer,
    PorterStemmer,
    RegexpStemmer,
    RSLPStemmer,
    SnowballStemmer,
    WordNetLemmatizer,
)
from nltk.tag import PerceptronTagger, map_tag

from nlp_parallel import ParallelTagger, fast
from nlp_parallel.tasks import prepare
from nlp_parallel.remote_tasks import lemmatize as remote_lemmatize
from nlp_parallel.remote_tasks import stem as remote_stem
from nlp_parallel.remote_tasks import tag as remote_tag
from nlp_parallel.remote_tasks.tag import FEATURE_NAMES, ExactPerceptron, NumpyPerceptron

EVERY_SENTENCE = os.environ.get("NLP_PARALLEL_EVERY_SENTENCE") == "1"
CORPORA = ("treebank", "nps_chat", "inaugural")
#: Corpus -> (file stride, sentence stride) of the sample tagged by default.
SAMPLED = {
    "brown": (2, 8),
    "masc_tagged": (1, 8),
    "abc": (1, 8),
    "webtext": (1, 8),
    "conll2000": (1, 4),
    "conll2002": (2, 8),
    "state_union": (1, 4),
    "movie_reviews": (16, 1),
}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def nltk_tagger() -> PerceptronTagger:
    return PerceptronTagger()


@pytest.fixture(scope="module")
def exact(nltk_tagger: PerceptronTagger) -> ExactPerceptron:
    return ExactPerceptron(nltk_tagger)


@pytest.fixture(scope="module")
def with_numpy(nltk_tagger: PerceptronTagger) -> NumpyPerceptron:
    return NumpyPerceptron(nltk_tagger)


def nltk_tags(tagger: PerceptronTagger, tokens: list[str]) -> list[str]:
    return [tag for _, tag in tagger.tag(tokens)]


def corpus_sentences(name: str) -> Any:
    reader = getattr(nltk.corpus, name)
    files, sentences = (1, 1) if EVERY_SENTENCE else SAMPLED.get(name, (1, 1))
    for fileid in reader.fileids()[::files]:
        sents = reader.posts(fileid) if name == "nps_chat" else reader.sents(fileid)
        yield from itertools.islice(sents, 0, None, sentences)


def test_feature_names_are_nltks_and_each_feature_counts_once(nltk_tagger):
    """The equality argument's premise: _get_features builds these 14 names in this
    order, and no two names can give the same feature string."""
    context = ["-START-", "-START2-", "a", "b", "c", "-END-", "-END2-"]
    features = nltk_tagger._get_features(1, "B", context, "P", "Q")
    assert len(features) == 14 and set(features.values()) == {1}
    assert all(
        key == name or key.startswith(name + " ")
        for key, name in zip(features, FEATURE_NAMES)
    )
    for first in FEATURE_NAMES:
        for second in FEATURE_NAMES:
            if first != second:
                assert not (second + " ").startswith(first + " ")


@pytest.mark.parametrize("name", CORPORA + tuple(SAMPLED))
def test_fast_tags_equal_nltks_on_every_corpus(name, nltk_tagger, exact, with_numpy):
    count = 0
    for sentence in corpus_sentences(name):
        tokens = list(sentence)
        expected = nltk_tags(nltk_tagger, tokens)
        assert exact.tags(tokens) == expected, tokens
        assert with_numpy.tags(tokens) == expected, tokens
        count += 1
    assert count > 1000


def adversarial_sentences(seed: int = 17) -> list[list[str]]:
    """Random strings, digits, years, hyphens, case, unicode, the context markers and
    tags as words, empty tokens, and sentences of 0, 1 and 1,000 tokens."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "-'.,;:!?$%&/ " + "éßçøЖжΩ中文"
    vocabulary = [w for w, _ in brown.tagged_words()[:20000]]
    special = [
        "",
        " ",
        "-",
        "--",
        "-x",
        "x-",
        "1999",
        "19999",
        "0",
        "3.14",
        "1-2",
        "-START-",
        "-START2-",
        "-END-",
        "-END2-",
        "NN",
        "DT",
        "!HYPHEN",
        "!YEAR",
        "!DIGITS",
        "bias",
        "i word",
        "i suffix x",
        "The",
        "THE",
        "the",
    ]

    def token() -> str:
        kind = rng.random()
        if kind < 0.3:
            return rng.choice(vocabulary)
        if kind < 0.45:
            return rng.choice(special)
        if kind < 0.6:
            return str(rng.randrange(10 ** rng.randrange(1, 7)))
        if kind < 0.75:
            return "-".join(rng.choice(vocabulary) for _ in range(rng.randrange(2, 4)))
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))

    sentences: list[list[str]] = [[], [""], [" "], ["-"], ["the"], ["The"], ["1999"]]
    sentences += [[w] for w in special]
    sentences += [[token() for _ in range(rng.randrange(1, 40))] for _ in range(3000)]
    sentences += [[token() for _ in range(1000)] for _ in range(5)]
    sentences += [["the"] * 1000, ["-"] * 1000, ["Buffalo", "buffalo"] * 500]
    return sentences


def test_fast_tags_equal_nltks_on_adversarial_input(nltk_tagger, exact, with_numpy):
    for tokens in adversarial_sentences():
        expected = nltk_tags(nltk_tagger, tokens)
        assert exact.tags(tokens) == expected, tokens
        assert with_numpy.tags(tokens) == expected, tokens


def close_call_tagger() -> PerceptronTagger:
    """A model whose scores for "xyz" are too close to call: NLTK adds
    ``2**53 + 1.0`` first, which rounds to ``2**53``, so label A scores 0.0 and B, 0.5,
    wins; in the other order ``1.0 - 2**53`` is exact and A scores 1.0.  After B, a
    token's A and B tie (NLTK: the greater label, B); after A, A gets 3.0 more."""
    big = 2.0**53
    weights = {
        "bias": {"A": big},
        "i suffix xyz": {"A": 1.0},
        "i pref1 x": {"B": 0.5},
        "i-1 tag A": {"A": 3.0},
        "i-1 tag B": {"B": -0.5},
        "i word xyz": {"A": -big},
    }
    return PerceptronTagger.decode_json_obj([weights, {}, ["A", "B"]])


def test_close_calls_are_recomputed_in_nltks_order(monkeypatch):
    """Where another order of additions picks another label, the margin check sends
    the token to NLTK's order; with the check disabled the numpy scores are wrong."""
    big = 2.0**53
    assert ((0.0 + big) + 1.0) + -big == 0.0 < 0.5 < (1.0 + -big) + big
    tagger = close_call_tagger()
    sentences = [["xyz"], ["xyz", "xyz", "xyz"], ["q", "xyz", "q", "xyz"], []]
    expected = [nltk_tags(tagger, s) for s in sentences]
    assert expected == [["B"], ["B", "B", "B"], ["A", "A", "A", "A"], []]
    checked = NumpyPerceptron(tagger)
    assert [checked.tags(s) for s in sentences] == expected
    assert checked.fallbacks >= 4 and checked.sequential >= 1
    assert [ExactPerceptron(tagger).tags(s) for s in sentences] == expected
    monkeypatch.setattr(remote_tag, "MARGIN_FACTOR", 0.0)
    monkeypatch.setattr(remote_tag, "MARGIN_FLOOR", 0.0)
    unchecked = NumpyPerceptron(tagger)
    assert unchecked.tags(["xyz"]) == ["A"] != expected[0]


def test_ties_go_to_the_greatest_label_as_in_nltk():
    weights = {"bias": {"A": 1.0, "B": 1.0, "C": 0.5}, "i word y": {"C": 0.5}}
    tagger = PerceptronTagger.decode_json_obj([weights, {}, ["C", "A", "B"]])
    sentences = [["x"], ["y"], ["x", "y", "x"]]
    numpy_path = NumpyPerceptron(tagger)
    assert [numpy_path.tags(s) for s in sentences] == [
        nltk_tags(tagger, s) for s in sentences
    ] == [["B"], ["C"], ["B", "C", "B"]]
    # Each sentence's first tie changes numpy's first-found label to NLTK's, so the
    # rest of that sentence goes to NLTK's order.
    assert (numpy_path.fallbacks, numpy_path.sequential) == (3, 2)
    # A single label is every prediction, with no margin to check.
    weights = {"bias": {"A": 1.0}, "i word x": {"A": -3.0}}
    single = PerceptronTagger.decode_json_obj([weights, {"y": "Q"}, ["A"]])
    for tokens in (["x"], ["x", "y", "z"]):
        assert NumpyPerceptron(single).tags(tokens) == nltk_tags(single, tokens)


def test_unsettled_sentences_are_finished_in_nltks_order(nltk_tagger, with_numpy):
    """One Jacobi round settles only the first prediction of a sentence; the rest go
    to the pure-Python path, and the tags stay NLTK's."""
    one_round = NumpyPerceptron(nltk_tagger, rounds=1)
    for sentence in brown.sents()[:1000]:
        tokens = list(sentence)
        assert one_round.tags(tokens) == nltk_tags(nltk_tagger, tokens)
    assert one_round.sequential > 1000
    assert one_round.sequential < one_round.predicted


def test_numpy_tables_stay_within_their_memory_bound(
    nltk_tagger, with_numpy, monkeypatch
):
    arrays = (with_numpy.weights, with_numpy.pair_scores, with_numpy.row_bounds)
    used = sum(a.nbytes for a in arrays)
    used += sum(map(len, with_numpy.follow_rows.values()))
    assert used <= NumpyPerceptron.footprint(nltk_tagger) <= remote_tag.NUMPY_MEMORY
    # A model whose tables would not fit keeps to the pure-Python path.
    monkeypatch.setattr(remote_tag, "NUMPY_MEMORY", used // 2)
    assert type(remote_tag.fast_path(nltk_tagger)) is ExactPerceptron
    assert type(remote_tag.fast_path(nltk_tagger, use_numpy=False)) is ExactPerceptron


def test_small_caches_evict_and_stay_exact(nltk_tagger):
    """With caches of 64 entries nearly every lookup evicts; the tags stay NLTK's, and
    no cache grows past its size."""
    small = ExactPerceptron(nltk_tagger, cache_size=64)
    for sentence in treebank.sents()[:1500]:
        tokens = list(sentence)
        assert small.tags(tokens) == nltk_tags(nltk_tagger, tokens)
    caches = (
        small.word_features,
        small.affix_scores,
        small.tag_terms,
        small.head_scores,
    )
    assert all(cache.cache_info().currsize <= 64 for cache in caches)
    assert small.word_features.cache_info().currsize == 64


def test_tagger_caches_stay_bounded_on_a_stream_of_new_words(nltk_tagger):
    small = ExactPerceptron(nltk_tagger, cache_size=1000)
    for start in range(0, 100_000, 20):
        small.tags([f"w{n}x" for n in range(start, start + 20)])
    caches = (
        small.word_features,
        small.affix_scores,
        small.tag_terms,
        small.head_scores,
    )
    assert max(cache.cache_info().currsize for cache in caches) == 1000


def test_universal_tagset_through_the_task_equals_nltk(nltk_tagger):
    task = prepare("tag", {"tagset": "universal"})
    # As a worker gets them: the model's JSON text decoded.
    options = {**task.options, "params": json.loads(task.options["params"].text)}
    assert options["numpy"] is True
    fast_task = remote_tag.setup(options)
    pure_task = remote_tag.setup({**options, "numpy": False})
    slow_task = remote_tag.setup({**options, "exact_fast": False})
    assert isinstance(fast_task.tags.__self__, NumpyPerceptron)
    assert isinstance(pure_task.tags.__self__, ExactPerceptron)
    assert slow_task.tags == slow_task.nltk_tags
    for tokens in [list(s) for s in treebank.sents()[:1000]] + adversarial_sentences()[
        :500
    ]:
        expected = [
            map_tag("en-ptb", "universal", t) for t in nltk_tags(nltk_tagger, tokens)
        ]
        assert fast_task(tokens) == expected == pure_task(tokens) == slow_task(tokens)


def test_without_numpy_the_pure_python_path_tags_the_same(nltk_tagger, monkeypatch):
    """A worker whose Python lacks numpy (simulated: its import fails) tags with the
    pure-Python exact path; so does ``use_numpy=False`` in the drop-in."""
    options = {"params": list(nltk_tagger.encode_json_obj())}
    with_numpy = remote_tag.setup(options)
    monkeypatch.setitem(sys.modules, "numpy", None)
    without = remote_tag.setup(options)
    assert isinstance(with_numpy.tags.__self__, NumpyPerceptron)
    assert isinstance(without.tags.__self__, ExactPerceptron)
    drop_in = fast.PerceptronTagger(use_numpy=False)
    sentences = [list(s) for s in brown.sents()[:500]] + adversarial_sentences()[:200]
    for tokens in sentences:
        expected = nltk_tags(nltk_tagger, tokens)
        assert without(tokens) == expected == with_numpy(tokens)
    assert drop_in.tag_sents(sentences) == nltk_tagger.tag_sents(sentences)
    assert type(drop_in._exact) is ExactPerceptron


@pytest.fixture(scope="module")
def trained() -> PerceptronTagger:
    tagger = PerceptronTagger(load=False)
    random.seed(3)  # train shuffles the sentences
    tagger.train([list(s) for s in treebank.tagged_sents()[:600]], nr_iter=3)
    return tagger


def test_trained_model_shipped_through_the_research_api(trained):
    """A model trained here travels as JSON to real popen gateways; the fast path there
    and NLTK's own path both give the trained tagger's own tags."""
    assert ExactPerceptron.serves(trained)
    sentences = [list(s) for s in treebank.sents()[600:1400]] + adversarial_sentences()[
        :300
    ]
    expected = [trained.tag(s) for s in sentences]
    numpy_path = NumpyPerceptron(trained)
    assert [list(zip(s, numpy_path.tags(s))) for s in sentences] == expected
    with ParallelTagger(specs=[("popen", 2)], tagger=trained) as parallel:
        assert parallel.tag_sents(sentences) == expected
    with ParallelTagger(
        specs=[("popen", 2)], tagger=trained, exact_fast=False
    ) as parallel:
        assert parallel.tag_sents(sentences) == expected


def test_serial_drop_in_tags_as_nltk(nltk_tagger, trained):
    tagger = fast.PerceptronTagger()
    sentences = [list(s) for s in brown.sents()[:2000]] + adversarial_sentences()[:300]
    assert tagger.tag_sents(sentences) == nltk_tagger.tag_sents(sentences)
    assert isinstance(tagger._exact, NumpyPerceptron)  # the fast path did the tagging
    tokens = sentences[0]
    assert tagger.tag(tokens, return_conf=True) == nltk_tagger.tag(
        tokens, return_conf=True
    )
    assert tagger.tag(tokens, use_tagdict=False) == nltk_tagger.tag(
        tokens, use_tagdict=False
    )
    assert tagger.tag(iter(tokens)) == nltk_tagger.tag(iter(tokens))

    # Trained in place: the fast path is rebuilt from the new model.
    retrained = fast.PerceptronTagger(load=False)
    random.seed(3)
    retrained.train([list(s) for s in treebank.tagged_sents()[:600]], nr_iter=3)
    held_out = [list(s) for s in treebank.sents()[600:1000]]
    assert retrained.tag_sents(held_out) == trained.tag_sents(held_out)


def test_models_the_fast_path_cannot_serve_keep_nltks_tag(nltk_tagger):
    """A NaN weight would make NLTK's max depend on set order: such a model is left
    to NLTK's own tag, in the task and in the drop-in alike."""
    weights, tagdict, classes = nltk_tagger.encode_json_obj()
    weights = dict(weights)
    weights["bias"] = {**weights["bias"], "NN": float("nan")}
    odd = fast.PerceptronTagger(load=False)
    odd.decode_json_params((weights, tagdict, classes))
    assert not ExactPerceptron.serves(odd)
    task = remote_tag.setup({"params": [weights, tagdict, classes]})
    assert task.tags == task.nltk_tags
    plain = PerceptronTagger.decode_json_obj([weights, tagdict, classes])
    for tokens in [list(s) for s in treebank.sents()[:200]]:
        assert odd.tag(tokens) == plain.tag(tokens)
        assert task(tokens) == nltk_tags(plain, tokens)


# -- stemmers and the lemmatizer --------------------------------------------------

STEMMERS = {
    "porter-original": (
        {"algorithm": "porter", "mode": "ORIGINAL_ALGORITHM"},
        lambda: PorterStemmer(PorterStemmer.ORIGINAL_ALGORITHM),
    ),
    "porter-martin": (
        {"algorithm": "porter", "mode": "MARTIN_EXTENSIONS"},
        lambda: PorterStemmer(PorterStemmer.MARTIN_EXTENSIONS),
    ),
    "porter-nltk": ({"algorithm": "porter"}, PorterStemmer),
    "lancaster": (
        {"algorithm": "lancaster", "strip_prefix": True},
        lambda: LancasterStemmer(strip_prefix_flag=True),
    ),
    "snowball-english": (
        {"algorithm": "snowball", "language": "english", "ignore_stopwords": True},
        lambda: SnowballStemmer("english", ignore_stopwords=True),
    ),
    "snowball-german": (
        {"algorithm": "snowball", "language": "german"},
        lambda: SnowballStemmer("german"),
    ),
    "regexp": (
        {"algorithm": "regexp", "pattern": "ing$|s$|e$|able$", "min": 4},
        lambda: RegexpStemmer("ing$|s$|e$|able$", 4),
    ),
    "isri": ({"algorithm": "isri"}, ISRIStemmer),
    "rslp": ({"algorithm": "rslp"}, RSLPStemmer),
    "cistem": ({"algorithm": "cistem", "case_insensitive": True}, lambda: Cistem(True)),
    "arlstem": ({"algorithm": "arlstem"}, ARLSTem),
    "arlstem2": ({"algorithm": "arlstem2"}, ARLSTem2),
}


@pytest.fixture(scope="module")
def brown_words() -> list[str]:
    return list(dict.fromkeys(brown.words()))  # every word type, in corpus order


@pytest.mark.parametrize("name", STEMMERS)
def test_memoized_stems_equal_nltks_on_every_brown_word(name, brown_words):
    options, make = STEMMERS[name]
    task = prepare("stem", options)
    nltk_stemmer = make()
    expected = [nltk_stemmer.stem(word) for word in brown_words]
    memo = remote_stem.setup(dict(task.options))
    assert memo.stem_token != memo.nltk_stem
    # Each word's first stem is computed, the second (in another order) remembered.
    assert memo(brown_words) == expected
    assert memo(brown_words[::-1]) == expected[::-1]
    assert (
        remote_stem.setup({**task.options, "exact_fast": False})(brown_words)
        == expected
    )
    # A memo of 500: running text evicts and recomputes all the time.
    tokens = brown.words()[:20_000]
    small = remote_stem.setup({**task.options, "memo_size": 500})
    stems = dict(zip(brown_words, expected))
    assert small(list(tokens)) == [stems[t] for t in tokens]
    assert small.stem_token.cache_info().currsize == 500


@pytest.mark.parametrize(
    "mode", ["ORIGINAL_ALGORITHM", "MARTIN_EXTENSIONS", "NLTK_EXTENSIONS"]
)
def test_porter_test_vocabulary_memo_on_off_and_evicting(mode):
    def lines(name: str) -> list[str]:
        with nltk.data.find(f"stemmers/porter_test/{name}").open(encoding="utf-8") as f:
            return f.read().splitlines()

    words = lines("porter_vocabulary.txt")
    expected = lines(
        {
            "ORIGINAL_ALGORITHM": "porter_original_output.txt",
            "MARTIN_EXTENSIONS": "porter_martin_output.txt",
            "NLTK_EXTENSIONS": "porter_nltk_output.txt",
        }[mode]
    )
    options = dict(prepare("stem", {"mode": mode}).options)
    for variant in ({}, {"exact_fast": False}, {"memo_size": 100}):
        task = remote_stem.setup({**options, **variant})
        assert task(words + words[::-1]) == expected + expected[::-1]


def test_snowball_arabic_is_not_memoized_because_its_stems_depend_on_earlier_words():
    words = ["فسيكتبونها", "ذهبوا"]
    shared = SnowballStemmer("arabic")
    assert [shared.stem(w) for w in words][1] != SnowballStemmer("arabic").stem(
        words[1]
    )
    task = remote_stem.setup(
        dict(prepare("stem", {"algorithm": "snowball", "language": "arabic"}).options)
    )
    assert task.stem_token == task.nltk_stem
    shared = SnowballStemmer("arabic")
    assert task(words * 3) == [shared.stem(w) for w in words * 3]


def test_stem_memo_stays_at_its_cap_over_a_million_new_words():
    task = remote_stem.setup(
        {
            **prepare("stem", {"algorithm": "regexp", "pattern": "s$"}).options,
            "memo_size": 10_000,
        }
    )
    for start in range(0, 1_000_000, 10_000):
        batch = [f"w{n}s" for n in range(start, start + 10_000)]
        assert task(batch) == [w[:-1] for w in batch]
        assert task.stem_token.cache_info().currsize == 10_000


@pytest.fixture(scope="module")
def lemmatize_options() -> dict[str, Any]:
    return dict(prepare("lemmatize").options)


def test_memoized_lemmas_equal_nltks_on_every_tagged_brown_word(lemmatize_options):
    memo = remote_lemmatize.setup(lemmatize_options)
    pairs = list(dict.fromkeys(brown.tagged_words()))
    items = [[word, tag] for word, tag in pairs]
    wordnet = WordNetLemmatizer()
    expected = [wordnet.lemmatize(word, memo.pos(tag)) for word, tag in pairs]
    assert memo(items) == expected
    assert memo(items[::-1]) == expected[::-1]
    plain = remote_lemmatize.setup({**lemmatize_options, "exact_fast": False})
    assert plain.lemmatize == plain.lemmatizer.lemmatize
    assert plain(items) == expected
    small = remote_lemmatize.setup({**lemmatize_options, "memo_size": 300})
    lemmas = dict(zip(pairs, expected))
    tagged = brown.tagged_words()[:50_000]
    assert small([list(p) for p in tagged]) == [lemmas[p] for p in tagged]
    assert small.lemmatize.cache_info().currsize == 300


def test_lemma_memo_stays_at_its_cap_over_new_words(lemmatize_options):
    task = remote_lemmatize.setup({**lemmatize_options, "memo_size": 5_000})
    for start in range(0, 200_000, 10_000):
        task([f"x{n}dogs" for n in range(start, start + 10_000)])
        assert task.lemmatize.cache_info().currsize == 5_000


# -- a whole job, fast paths on and off --------------------------------------------


def run_job(tmp_path: Path, exact_fast: bool) -> bytes:
    steps = [
        {"name": "tag", "options": {"exact_fast": exact_fast}},
        {"name": "stem", "options": {"exact_fast": exact_fast}},
        {"name": "lemmatize", "options": {"exact_fast": exact_fast}},
    ]
    output = tmp_path / f"out.{exact_fast}.jsonl"
    job = {
        "corpus": {"name": "brown", "view": "sents", "limit": 1500},
        "task": {"name": "pipeline", "steps": steps},
        "specs": [["popen", 2]],
        "output": {"path": str(output), "format": "jsonl"},
    }
    path = tmp_path / f"job.{exact_fast}.yaml"
    path.write_text(yaml.safe_dump(job))
    done = subprocess.run(
        [sys.executable, "-m", "nlp_parallel", "run", str(path), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return output.read_bytes()


def test_parallel_job_with_fast_paths_equals_without_byte_for_byte(tmp_path):
    fast_bytes = run_job(tmp_path, True)
    assert fast_bytes.count(b"\n") == 1500
    assert fast_bytes == run_job(tmp_path, False)


def test_exact_fast_is_documented_and_checked(capsys):
    from nlp_parallel.cli import main
    from nlp_parallel.errors import ConfigError

    assert main(["tasks"]) == 0
    listing = capsys.readouterr().out
    options: dict[str, list[str]] = {}
    for line in listing.splitlines():
        if line and not line[0].isspace():
            task = line.split(":")[0]
        else:
            options.setdefault(task, []).append(line.strip().split(":")[0])
    assert [t for t, names in options.items() if "exact_fast" in names] == [
        "tag",
        "stem",
        "lemmatize",
    ]
    assert [t for t, names in options.items() if "numpy" in names] == ["tag"]
    assert prepare("tag", {"numpy": False}).options["numpy"] is False
    with pytest.raises(ConfigError, match=r"^options\.numpy: expected true or false"):
        prepare("tag", {"numpy": "no"})
    with pytest.raises(ConfigError, match=r"^numpy: expected true or false"):
        ParallelTagger(
            specs=[("popen", 1)], tagger=PerceptronTagger(load=False), numpy="no"
        )
    with pytest.raises(
        ConfigError,
        match=r"^options\.steps\[1\]\.options\.exact_fast: "
        r"expected true or false, not 'yes'",
    ):
        prepare(
            "pipeline",
            {
                "steps": [
                    {"name": "tag"},
                    {"name": "stem", "options": {"exact_fast": "yes"}},
                ]
            },
        )
    for task in ("tag", "stem", "lemmatize"):
        assert prepare(task, {"exact_fast": False}).options["exact_fast"] is False
