"""A tokenize -> tag -> chunk pipeline equals the serial composition of NLTK's steps."""

from __future__ import annotations

import pytest
from nltk import sent_tokenize, word_tokenize
from nltk.chunk import RegexpParser, tree2conlltags
from nltk.corpus import state_union
from nltk.stem import PorterStemmer
from nltk.tag import PerceptronTagger

import nlp_parallel
from nlp_parallel import ConfigError
from nlp_parallel.tasks import prepare
from nlp_parallel.tasks.chunk import tree_from_data

GRAMMAR = r"NP: {<DT|PRP\$>?<JJ.*>*<NN.*>+}"
FILES = state_union.fileids()[:6]


def paragraphs() -> list[str]:
    return [p for f in FILES for p in state_union.raw(f).split("\n\n") if p.strip()]


def test_tokenize_tag_chunk_equals_serial_composition(dataless_pool):
    task = prepare("pipeline", {"steps": [
        {"name": "tokenize"},
        {"name": "tag"},
        {"name": "chunk", "options": {"grammar": GRAMMAR}},
        {"name": "stem"},
    ]})
    items = paragraphs()
    got = nlp_parallel.map(task.module, items, pool=dataless_pool, options=dict(task.options))

    tagger, parser, stemmer = PerceptronTagger(), RegexpParser(GRAMMAR), PorterStemmer()
    expected = []
    for text in items:
        sentences = []
        for sentence in sent_tokenize(text):
            tokens = word_tokenize(sentence)
            tagged = tagger.tag(tokens)
            tree = parser.parse(tagged)
            sentences.append({
                "tokens": tokens,
                "tags": [tag for _, tag in tagged],
                "iob": [iob for _, _, iob in tree2conlltags(tree)],
                "tree": tree,
                "stems": [stemmer.stem(t) for t in tokens],
            })
        expected.append(sentences)
    for records in got:
        for record in records:
            record["tree"] = tree_from_data(record["tree"])
    assert sum(len(r) for r in got) > 2000
    assert got == expected


def test_pipeline_over_tagged_input(dataless_pool):
    """Without tokenize, items may arrive tagged and go straight to chunk."""
    task = prepare("pipeline", {"steps": [
        {"name": "chunk", "options": {"grammar": GRAMMAR, "tree": False}},
    ]})
    tagged = [[["The", "DT"], ["old", "JJ"], ["man", "NN"], ["sleeps", "VBZ"]]]
    got = nlp_parallel.map(task.module, tagged, pool=dataless_pool, options=dict(task.options))
    assert got == [{"tokens": ["The", "old", "man", "sleeps"], "tags": ["DT", "JJ", "NN", "VBZ"],
                    "iob": ["B-NP", "I-NP", "I-NP", "O"]}]


@pytest.mark.parametrize(
    "steps, message",
    [
        ([], r"options\.steps: expected a non-empty list"),
        ([{"name": "tag"}, {"name": "tokenize"}], r"options\.steps\[1\]\.name: tokenize can only"),
        ([{"name": "chunk", "options": {"grammar": GRAMMAR}}, {"name": "tag"}],
         r"options\.steps: chunk needs its tag step before it"),
        ([{"name": "tokenize"}, {"name": "stem"}, {"name": "chunk", "options": {"grammar": GRAMMAR}}],
         r"options\.steps: chunk needs a tag step before it: tokenize gives tokens without tags"),
        ([{"name": "tag", "options": {"tagset": "klingon"}}],
         r"options\.steps\[0\]\.options\.tagset: NLTK has no mapping"),
        ([{"name": "tagg"}], r"unknown task 'tagg'"),
        ([{"name": "tag", "opts": {}}], r"options\.steps\[0\]: unknown key 'opts'"),
        ([{"name": "pipeline"}], r"options\.steps\[0\]\.name: a pipeline cannot contain"),
    ],
)
def test_bad_pipelines_are_named(steps, message):
    with pytest.raises(ConfigError, match=message):
        prepare("pipeline", {"steps": steps})
