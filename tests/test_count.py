"""The count task: frequency distributions, n-grams, conditional counts, collocations
and vocabulary statistics counted by real workers over the shared corpora, each
compared with what serial NLTK code builds over the same units -- equal as NLTK's
objects, and in ``most_common`` order, ties included."""

from __future__ import annotations

import csv
import itertools
import json
import random
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from nltk.collocations import (
    BigramAssocMeasures,
    BigramCollocationFinder,
    TrigramAssocMeasures,
    TrigramCollocationFinder,
)
from nltk.corpus import brown, conll2000, state_union, stopwords, treebank
from nltk.probability import ConditionalFreqDist, FreqDist
from nltk.stem import PorterStemmer
from nltk.util import ngrams

import nlp_parallel
from nlp_parallel.cli import main
from nlp_parallel.counting import load_counts
from nlp_parallel.jobs import load_job
from nlp_parallel.runner import run_job
from nlp_parallel.remote_tasks.count import Count, Merge

from conftest import killing_a_worker, start_driver

SPECS = [("popen", 2)]


def write_job(tmp_path: Path, name: str, corpus: str, task: str, output: str = "",
              extra: str = "read: workers") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(f"""\
        corpus: {corpus}
        task: {task}
        specs: [[popen, 2]]
        {extra}
        output: {{path: {tmp_path / name}.json{", " + output if output else ""}}}
        """))
    return path


def same(fd: FreqDist, reference: FreqDist) -> bool:
    """Equal counts, and the same ``most_common`` order (ties in order of first
    occurrence)."""
    return fd == reference and fd.most_common() == reference.most_common()


# -- the merge itself: pieces of any size give NLTK's counts, in NLTK's order ----------


def pieces(options: dict, sentences: list[list[str]], rng: random.Random) -> Merge:
    """Count ``sentences`` in pieces of random sizes (some empty, some one sentence
    of one word), as workers flush them, and merge the pieces in order."""
    count, merge = Count(options), Merge(options)
    at = 0
    while at < len(sentences):
        size = rng.choice([0, 1, 1, 2, 3, 40, 400])
        for sentence in sentences[at:at + size]:
            count({"tokens": list(sentence)}, {"fileid": "f"})
        at += size
        line = count.flush()
        if line is not None:
            merge.add(line)
    merge.finish()
    return merge


@pytest.fixture(scope="module")
def news() -> list[list[str]]:
    # Sentences of one and two words among them: windows span several pieces.
    sents = [list(s) for s in brown.sents(categories="news")[:3000]]
    return sents[:100] + [["a"], ["b", "c"], ["d"], []] * 5 + sents[100:]


@pytest.mark.parametrize("n, pad_left, pad_right", [
    (1, False, False), (2, False, False), (3, True, True), (4, True, False), (5, False, True)])
def test_ngrams_across_pieces_are_nltks(n, pad_left, pad_right, news):
    options = {"count": "ngrams", "of": "word", "n": n, "span": "corpus", "pad_left": pad_left,
               "pad_right": pad_right, "left_pad_symbol": "<s>", "right_pad_symbol": None}
    words = [w for s in news for w in s]
    reference = FreqDist(ngrams(words, n, pad_left=pad_left, pad_right=pad_right,
                                left_pad_symbol="<s>", right_pad_symbol=None))
    for seed in range(3):
        assert same(FreqDist(pieces(options, news, random.Random(seed)).tables["ngrams"]),
                    reference)


@pytest.mark.parametrize("n, window", [(2, 2), (2, 3), (2, 5), (3, 3), (3, 4)])
def test_collocation_windows_across_pieces_are_nltks(n, window, news):
    options = {"count": "collocations", "of": "word", "n": n, "window_size": window}
    words = [w for s in news for w in s]
    merge = pieces(options, news, random.Random(n * 10 + window))
    if n == 2:
        finder = BigramCollocationFinder.from_words(words, window_size=window)
        expected = {"word_fd": finder.word_fd, "bigram_fd": finder.ngram_fd}
    else:
        finder = TrigramCollocationFinder.from_words(words, window_size=window)
        expected = {"word_fd": finder.word_fd, "bigram_fd": finder.bigram_fd,
                    "wildcard_fd": finder.wildcard_fd, "trigram_fd": finder.ngram_fd}
    for name, reference in expected.items():
        assert same(FreqDist(merge.tables[name]), reference), name


def test_an_empty_stream_pads_as_nltk_does():
    options = {"count": "ngrams", "of": "word", "n": 2, "span": "corpus", "pad_left": True,
               "pad_right": True, "left_pad_symbol": "<s>", "right_pad_symbol": "</s>"}
    merge = Merge(options)
    merge.finish()
    assert merge.tables["ngrams"] == FreqDist(ngrams([], 2, pad_left=True, pad_right=True,
                                                     left_pad_symbol="<s>",
                                                     right_pad_symbol="</s>"))


# -- jobs over the shared corpora -----------------------------------------------------


def test_words_of_all_of_brown(tmp_path, capsys):
    job = write_job(tmp_path, "words", "{name: brown, view: sents}", "{name: count}")
    assert main(["run", str(job)]) == 0
    reference = FreqDist(brown.words())
    fd = load_counts(str(tmp_path / "words.json"))
    assert same(fd, reference)
    document = json.loads((tmp_path / "words.json").read_text())
    # NLTK's object straight from the file, as the README promises.
    assert FreqDist(document["counts"]) == reference
    assert document["items"] == 57_340 and document["N"] == reference.N()
    assert document["B"] == reference.B()
    err = capsys.readouterr().err
    assert f"counted: {reference.N():,} units, {reference.B():,} distinct" in err
    assert not list(tmp_path.glob(".*")), "no part, render or checkpoint file left"


def test_tags_of_treebank(tmp_path):
    job = write_job(tmp_path, "tags", "{name: treebank, view: tagged_sents}",
                    "{name: count, options: {of: tag}}")
    summary = run_job(load_job(str(job)))
    assert summary.read_by == "workers"
    assert same(load_counts(str(tmp_path / "tags.json")),
                FreqDist(tag for _, tag in treebank.tagged_words()))


def test_tag_to_word_of_brown_news(tmp_path):
    job = write_job(tmp_path, "cfd", "{name: brown, view: tagged_sents, categories: [news]}",
                    "{name: count, options: {count: conditional, condition: tag}}")
    run_job(load_job(str(job)))
    cfd = load_counts(str(tmp_path / "cfd.json"))
    reference = ConditionalFreqDist((tag, word) for word, tag in
                                    brown.tagged_words(categories="news"))
    assert cfd.conditions() == reference.conditions()  # in order of first occurrence
    for condition in reference.conditions():
        assert same(cfd[condition], reference[condition]), condition
    assert nlp_parallel.conditional_freq_dist(
        {"name": "brown", "view": "tagged_sents"}, "tag", categories=["news"],
        specs=SPECS) == reference


def test_word_trigrams_of_state_union(tmp_path):
    # The words view: one item per file, so trigrams run as over state_union.words().
    job = write_job(tmp_path, "trigrams", "{name: state_union, view: words}",
                    "{name: count, options: {count: ngrams, n: 3}}")
    run_job(load_job(str(job)))
    assert same(load_counts(str(tmp_path / "trigrams.json")),
                FreqDist(ngrams(state_union.words(), 3)))
    # Sentence by sentence (the sents view), across sentences and within them.
    sents = [list(s) for s in treebank.sents()]
    assert same(nlp_parallel.freq_dist("treebank", n=3, specs=SPECS),
                FreqDist(ngrams(itertools.chain.from_iterable(sents), 3)))
    within = nlp_parallel.freq_dist("treebank", n=3, span="sentence", pad_left=True,
                                    pad_right=True, left_pad_symbol="<s>",
                                    right_pad_symbol="</s>", specs=SPECS)
    assert same(within, FreqDist(g for s in sents for g in ngrams(
        s, 3, pad_left=True, pad_right=True, left_pad_symbol="<s>", right_pad_symbol="</s>")))


def test_collocations_rank_as_nltks_finder(tmp_path):
    words = brown.words(categories="news")
    reference = BigramCollocationFinder.from_words(words, window_size=3)
    reference.apply_freq_filter(3)
    finder = nlp_parallel.collocations(brown, categories=["news"], window_size=3,
                                       min_freq=3, specs=SPECS)
    assert finder.word_fd == reference.word_fd and finder.ngram_fd == reference.ngram_fd
    for measure in ("likelihood_ratio", "pmi", "chi_sq", "student_t", "raw_freq"):
        score = getattr(BigramAssocMeasures, measure)
        assert finder.nbest(score, 50) == reference.nbest(score, 50), measure
    # The job writes the best of them with their scores and counts, and --top cuts them.
    job = write_job(tmp_path, "colloc", "{name: brown, view: sents, categories: [news]}",
                    "{name: count, options: {count: collocations, window_size: 3, "
                    "min_freq: 3, measure: pmi}}")
    assert main(["run", str(job), "--top", "20"]) == 0
    document = json.loads((tmp_path / "colloc.json").read_text())
    expected = reference.score_ngrams(BigramAssocMeasures.pmi)[:20]
    assert [(tuple(g), s) for g, s, _ in document["collocations"]] == expected
    assert [c for _, _, c in document["collocations"]] == [reference.ngram_fd[g]
                                                          for g, _ in expected]
    assert load_counts(str(tmp_path / "colloc.json")).ngram_fd == reference.ngram_fd


def test_trigram_collocations_of_lowercased_words_without_stopwords():
    stop = set(stopwords.words("english"))
    words = [w.lower() for w in conll2000.words("test.txt")]
    words = [w for w in words if w not in stop and w.isalpha()]
    reference = TrigramCollocationFinder.from_words(words, window_size=4)
    reference.apply_freq_filter(2)
    finder = nlp_parallel.collocations({"name": "conll2000", "fileids": ["test.txt"]}, n=3,
                                       window_size=4, lowercase=True, stopwords="english",
                                       match="[^\\W\\d_]+", min_freq=2, specs=SPECS)
    for measure in ("likelihood_ratio", "pmi", "chi_sq"):
        score = getattr(TrigramAssocMeasures, measure)
        assert finder.nbest(score, 30) == reference.nbest(score, 30), measure
    assert finder.wildcard_fd == reference.wildcard_fd


def test_stems_after_a_stem_step_and_tsv_output(tmp_path):
    job = write_job(tmp_path, "stems", "{name: treebank, view: sents, limit: 1500}", """
          name: pipeline
          steps:
            - {name: stem}
            - {name: count, options: {of: stem, lowercase: true}}""",
                    output="format: tsv, top: 100")
    assert main(["run", str(job)]) == 0
    porter = PorterStemmer()
    reference = FreqDist(porter.stem(w) for s in treebank.sents()[:1500] for w in s)
    with open(tmp_path / "stems.json", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, dialect="excel-tab"))
    assert rows[0] == ["stem", "count"]
    assert [(stem, int(n)) for stem, n in rows[1:]] == reference.most_common(100)


def test_word_tag_pairs_by_fileid_and_vocabulary_by_category(tmp_path):
    fileids = brown.fileids(categories="news")[:6] + brown.fileids(categories="humor")[:6]
    job = write_job(tmp_path, "pairs", f"{{name: brown, view: tagged_sents, fileids: {fileids}}}",
                    "{name: count, options: {count: conditional, condition: fileid, "
                    "sample: word_tag}}", output="format: tsv")
    assert main(["run", str(job)]) == 0
    with open(tmp_path / "pairs.json", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, dialect="excel-tab"))
    assert rows[0] == ["condition", "sample_word", "sample_tag", "count"]
    got = Counter({(c, (w, t)): int(n) for c, w, t, n in rows[1:]})
    assert got == Counter((f, wt) for f in fileids for wt in brown.tagged_words(f))
    stats = nlp_parallel.count("brown", count="vocabulary", by="category", fileids=fileids,
                               specs=SPECS)
    for category in ("news", "humor"):
        fd = FreqDist(w for f in fileids if category in brown.categories(f)
                      for w in brown.words(f))
        assert stats[category] == {"tokens": fd.N(), "types": fd.B(),
                                   "hapaxes": len(fd.hapaxes()),
                                   "type_token_ratio": fd.B() / fd.N()}


def test_sentences_given_from_python_and_a_limit(tmp_path):
    sents = [list(s) for s in treebank.sents()[:700]]
    assert same(nlp_parallel.freq_dist(sents, n=2, specs=SPECS),
                FreqDist(ngrams(itertools.chain.from_iterable(sents), 2)))
    tagged = [list(s) for s in treebank.tagged_sents()[:700]]
    assert nlp_parallel.conditional_freq_dist(tagged, "word", "tag", specs=SPECS) == \
        ConditionalFreqDist(pair for s in tagged for pair in s)
    # A limit: the driver reads, so the counts stop at the limit's sentence exactly.
    job = write_job(tmp_path, "limit", "{name: treebank, view: sents, limit: 700}",
                    "{name: count, options: {count: ngrams}}")
    summary = run_job(load_job(str(job)))
    assert summary.read_by.startswith("a count with corpus.limit")
    assert same(load_counts(str(tmp_path / "limit.json")),
                FreqDist(ngrams(itertools.chain.from_iterable(sents), 2)))


# -- nothing lost, nothing counted twice ------------------------------------------------


@pytest.fixture(scope="module")
def clean_bigrams(tmp_path_factory) -> bytes:
    tmp_path = tmp_path_factory.mktemp("clean")
    run_job(load_job(str(bigram_job(tmp_path))))
    return (tmp_path / "bigrams.json").read_bytes()


def bigram_job(tmp_path: Path, read: str = "workers") -> Path:
    return write_job(tmp_path, "bigrams", "{name: brown, view: sents, categories: "
                     "[news, editorial, reviews, religion, hobbies]}",
                     "{name: count, options: {count: ngrams, lowercase: true}}",
                     extra=f"read: {read}")


@pytest.mark.parametrize("read", ["workers", "driver"])
def test_worker_killed_mid_count_counts_each_sentence_once(read, tmp_path, clean_bigrams,
                                                           no_orphans):
    progress, killed = killing_a_worker(no_orphans, 2_000)

    summary = run_job(load_job(str(bigram_job(tmp_path, read))), progress)
    assert killed and sum(summary.restarts.values()) == 1
    assert (tmp_path / "bigrams.json").read_bytes() == clean_bigrams


#: A driver that SIGKILLs itself once a checkpoint holds some pieces and more pieces
#: have been written after it: at a place chosen by what was written, not by time.
KILLED_DRIVER = """
import os, signal, sys, time
from pathlib import Path
from nlp_parallel.jobs import load_job
from nlp_parallel.runner import run_job

checkpoint = Path(sys.argv[2] + ".checkpoint")
state = {"written": 0, "paused": False, "saved": None}

def progress(count):
    state["written"] += count
    if state["written"] < 1000:
        return
    if not state["paused"]:
        state["paused"] = True
        time.sleep(1.1)  # the next write is due to save a checkpoint
    elif state["saved"] is None and checkpoint.exists():
        state["saved"] = state["written"]
    elif state["saved"] is not None and state["written"] > state["saved"]:
        os.kill(os.getpid(), signal.SIGKILL)

run_job(load_job(sys.argv[1]), progress)
"""


def test_driver_killed_then_resumed_writes_the_same_counts(tmp_path, clean_bigrams):
    job, output = bigram_job(tmp_path), tmp_path / "bigrams.json"
    part = tmp_path / ".bigrams.json.part"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_DRIVER, str(job), str(output)],
                            stderr=subprocess.PIPE, text=True)
    assert proc.wait(180) == -signal.SIGKILL, proc.stderr.read()
    saved = json.loads(Path(f"{output}.checkpoint").read_text())
    assert 1000 <= saved["items"] and part.stat().st_size > saved["offset"], \
        "killed with pieces written past the checkpoint"
    assert not output.exists()
    resumed = start_driver(job, "--resume")
    assert resumed.wait(180) == 0, resumed.stderr.read()
    assert output.read_bytes() == clean_bigrams
    assert not part.exists()


def poison_job(tmp_path: Path, mode: str | None, on_error: str) -> Path:
    path = tmp_path / f"poison-{mode}.yaml"
    path.write_text(textwrap.dedent(f"""\
        corpus: {{name: treebank, view: sents, limit: 400}}
        task:
          name: module
          module: remote_modules.counting_poison
          options: {{word: Appellate, mode: {mode or "null"}}}
        specs: [[popen, 2]]
        timeout: 1
        on_error: {on_error}
        output: {{path: {tmp_path}/poison-{mode}.txt, format: text}}
        """))
    return path


def summed(path: Path) -> Counter:
    total: Counter = Counter()
    for line in path.read_text().splitlines():
        total.update(json.loads(line))
    return total


@pytest.mark.parametrize("mode", ["raise", "exit", "hang"])
def test_a_poison_sentence_leaves_the_other_counts_whole(mode, tmp_path):
    """A task's flushed counts under on_error skip: every sentence but the poison
    one counted once, whether it raises, kills its worker or hangs."""
    assert main(["run", str(poison_job(tmp_path, mode, "skip"))]) == 0
    sents = treebank.sents()[:400]
    assert summed(tmp_path / f"poison-{mode}.txt") == Counter(
        w for s in sents if "Appellate" not in s for w in s)


# -- bad input: one line, exit 2, before anything starts -------------------------------


@pytest.mark.parametrize("corpus, task, output, said", [
    ("{name: brown, view: sents}", "{name: count}", "format: jsonl",
     "output.format: a count writes its merged counts as json or tsv, not jsonl"),
    ("{name: brown, view: sents}", "{name: tag}", "format: json",
     "output.format: json holds a count's merged counts; task tag writes"),
    ("{name: brown, view: sents}", "{name: tag}", "top: 3",
     "output.top: only a count's output keeps the top N"),
    ("{name: brown, view: sents}", "{name: count, options: {of: tag}}", "",
     "task.options.of: tag needs tags, which corpus.view sents do not give; use view "
     "tagged_sents, or a pipeline with a tag step before count"),
    ("{name: brown, view: sents}", "{name: count, options: {of: stem}}", "",
     "task.options.of: stem needs stems"),
    ("{name: treebank, view: sents}", "{name: count, options: {count: conditional, "
     "condition: category}}", "", "task.options.condition: category needs a corpus with "
     "categories"),
    ("{name: brown, view: sents}", "{name: count, options: {count: conditional}}", "",
     "task.options.condition: count conditional needs a condition"),
    ("{name: brown, view: sents}", "{name: count, options: {count: collocations, n: 4}}", "",
     "task.options.n: collocations are bigrams (2) or trigrams (3), not 4"),
    ("{name: brown, view: sents}", "{name: count, options: {stopwords: klingon}}", "",
     "task.options.stopwords: NLTK's stopwords corpus has no list 'klingon'"),
    ("{name: brown, view: sents}", "{name: count, options: {match: '[a-'}}", "",
     "task.options.match: '[a-' is not a valid regular expression"),
    ("{name: brown, view: sents}", "{name: count, options: {window_size: 3}}", "",
     "task.options.window_size: unknown option for task count"),
    ("{name: brown, view: sents}", "{name: pipeline, steps: [{name: count}, {name: stem}]}", "",
     "task.steps[0].name: count can only be the last step"),
])
def test_bad_count_jobs_are_one_line_and_exit_2(corpus, task, output, said, tmp_path, capsys):
    job = write_job(tmp_path, "bad", corpus, task, output=output)
    assert main(["run", str(job)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and said in err, err
    assert str(job) in err
    assert not list(tmp_path.glob("bad.json*")) and not list(tmp_path.glob(".bad*"))


def test_top_on_the_command_line_needs_a_count(tmp_path, capsys):
    job = write_job(tmp_path, "tag", "{name: treebank, view: sents}", "{name: tag}")
    assert main(["run", str(job), "--top", "5"]) == 2
    assert "--top: only a count's output keeps the top N" in capsys.readouterr().err


def test_research_api_refuses_bad_keywords_before_starting():
    with pytest.raises(nlp_parallel.ConfigError, match="count.of: 'lemmas' is not one of"):
        nlp_parallel.freq_dist("brown", of="lemmas")
    with pytest.raises(nlp_parallel.ConfigError, match="categor"):
        nlp_parallel.freq_dist("brown", categorys=["news"])
    with pytest.raises(nlp_parallel.ConfigError, match="count.of: tag needs tags, which these "
                                                       "sentences"):
        nlp_parallel.freq_dist([["a", "b"]], of="tag")
    with pytest.raises(nlp_parallel.ConfigError, match="view sents"):
        nlp_parallel.freq_dist("brown", of="tag", view="sents")  # chosen, it is tagged_sents
