"""Tokenizing in workers that have no NLTK data equals serial NLTK's tokenizers."""

from __future__ import annotations

from typing import Any

import pytest
from nltk.corpus import nps_chat, state_union, webtext
from nltk.tokenize import (
    LineTokenizer,
    PunktTokenizer,
    RegexpTokenizer,
    TreebankWordTokenizer,
    TweetTokenizer,
    WhitespaceTokenizer,
    WordPunctTokenizer,
    sent_tokenize,
    word_tokenize,
)

import nlp_parallel
from nlp_parallel.errors import ConfigError, ResourceMissing
from nlp_parallel.tasks import prepare
from nlp_parallel.remote_tasks import tokenize as remote_tokenize

#: 1946-Truman has a sentence that word_tokenize's own Punkt pass splits again.
STATE_UNION = ["1945-Truman.txt", "1946-Truman.txt", "1963-Kennedy.txt", "2006-GWBush.txt"]
WORD_PATTERN = r"\w+(?:[-']\w+)*|[^\w\s]+"


def run(pool, options: dict[str, Any], texts: list[str]) -> list[Any]:
    task = prepare("tokenize", options)
    return nlp_parallel.map(task.module, texts, pool=pool, options=dict(task.options))


def paragraphs(fileids: list[str]) -> list[str]:
    return [line for f in fileids for line in state_union.raw(f).split("\n") if line.strip()]


def test_punkt_model_rebuilt_from_shipped_text_equals_nltks():
    shipped = prepare("tokenize", {}).options["punkt"]
    rebuilt = remote_tokenize.punkt(shipped)._params
    installed = PunktTokenizer("english")._params
    for field in ("collocations", "sent_starters", "abbrev_types", "ortho_context"):
        assert getattr(rebuilt, field) == getattr(installed, field), field
    assert len(installed.ortho_context) > 1000


def test_state_union_equals_sent_tokenize_then_word_tokenize(dataless_pool):
    texts = [state_union.raw(f) for f in STATE_UNION] + paragraphs(STATE_UNION[:2])
    expected = [[word_tokenize(s) for s in sent_tokenize(text)] for text in texts]
    assert run(dataless_pool, {}, texts) == expected
    assert sum(len(sents) for sents in expected) > 2000


def test_preserve_line_skips_word_tokenizes_second_punkt_pass(dataless_pool):
    texts = [state_union.raw("1946-Truman.txt")]
    expected = [[word_tokenize(s, preserve_line=True) for s in sent_tokenize(texts[0])]]
    got = run(dataless_pool, {"preserve_line": True}, texts)
    assert got == expected
    assert got != run(dataless_pool, {}, texts)  # the option changes something real


def test_whole_text_as_one_sentence_still_word_tokenizes(dataless_pool):
    texts = paragraphs(["1963-Kennedy.txt"])[:50] + [""]
    expected = [[word_tokenize(text)] for text in texts]
    assert run(dataless_pool, {"sentences": "none"}, texts) == expected


TOKENIZERS = {
    "treebank": ({"words": "treebank"}, TreebankWordTokenizer()),
    "regexp": ({"words": "regexp", "pattern": WORD_PATTERN}, RegexpTokenizer(WORD_PATTERN)),
    "regexp-gaps": (
        {"words": "regexp", "pattern": r"[\s.,;:!?]", "gaps": True, "discard_empty": False},
        RegexpTokenizer(r"[\s.,;:!?]", gaps=True, discard_empty=False),
    ),
    "whitespace": ({"words": "whitespace"}, WhitespaceTokenizer()),
    "wordpunct": ({"words": "wordpunct"}, WordPunctTokenizer()),
}


@pytest.mark.parametrize("name", TOKENIZERS)
def test_word_tokenizers_on_punkt_sentences_equal_serial(dataless_pool, name):
    options, tokenizer = TOKENIZERS[name]
    texts = [webtext.raw("overheard.txt")[:60_000], webtext.raw("firefox.txt")[:30_000]]
    expected = [[tokenizer.tokenize(s) for s in sent_tokenize(text)] for text in texts]
    assert run(dataless_pool, options, texts) == expected


def test_lines_with_whitespace_equal_line_tokenizer(dataless_pool):
    texts = [webtext.raw("pirates.txt")[:40_000], "one line\n\n  \nand another"]
    expected = [
        [WhitespaceTokenizer().tokenize(line) for line in LineTokenizer().tokenize(text)]
        for text in texts
    ]
    got = run(dataless_pool, {"sentences": "lines", "words": "whitespace"}, texts)
    assert got == expected
    assert got[1] == [["one", "line"], ["and", "another"]]


@pytest.mark.parametrize(
    "flags",
    [{}, {"preserve_case": False, "reduce_len": True, "strip_handles": True}],
    ids=["defaults", "lower-reduce-strip"],
)
def test_tweet_tokenizer_on_chat_posts_equals_serial(dataless_pool, flags):
    posts = [post.text for post in nps_chat.xml_posts()[:3000]]
    tokenizer = TweetTokenizer(**flags)
    expected = [[tokenizer.tokenize(post)] for post in posts]
    got = run(dataless_pool, {"sentences": "none", "words": "tweet", **flags}, posts)
    assert got == expected


def test_uninstalled_punkt_language_names_punkt_tab():
    with pytest.raises(ResourceMissing) as info:
        prepare("tokenize", {"language": "german"})
    assert info.value.package == "punkt_tab"
    assert info.value.resource == "tokenizers/punkt_tab/german/"
    assert "nlp-parallel data install punkt_tab" in str(info.value)
    assert str(info.value).startswith("options.language: NLTK resource ")


def test_punkt_language_without_a_model_lists_the_languages():
    """No punkt_tab package has it, so installing one would not help."""
    with pytest.raises(ConfigError, match=r"^options\.language: NLTK has no punkt_tab model "
                                          r"for 'klingon'; its languages: czech, danish,"):
        prepare("tokenize", {"language": "klingon"})


def test_word_tokenize_needs_punkt_even_without_sentence_splitting():
    with pytest.raises(ResourceMissing, match="punkt_tab"):
        prepare("tokenize", {"sentences": "none", "language": "german"})
    # ... but not when it preserves the line, so language is then unknown
    with pytest.raises(ConfigError, match=r"^options\.language: unknown option"):
        prepare("tokenize", {"sentences": "none", "preserve_line": True, "language": "german"})


@pytest.mark.parametrize(
    "options, key, detail",
    [
        ({"sentences": "paragraphs"}, "sentences", "punkt, lines, none"),
        ({"words": "treebnak"}, "words", "did you mean 'treebank'"),
        ({"language": "english/../german"}, "language", "not a punkt_tab model name"),
        ({"language": 3}, "language", "expected a string"),
        ({"preserve_line": "no"}, "preserve_line", "expected true or false"),
        ({"words": "regexp"}, "pattern", "needs this option"),
        ({"words": "regexp", "pattern": "(ab"}, "pattern", "not a valid regular expression"),
        ({"words": "regexp", "pattern": r"(\w+)"}, "pattern", "capturing groups"),
        ({"words": "regexp", "pattern": r"\w+", "gaps": 1}, "gaps", "expected true or false"),
        ({"words": "tweet", "reduce_len": "yes"}, "reduce_len", "expected true or false"),
        ({"pattern": r"\w+"}, "pattern", "unknown option for task tokenize"),
        ({"words": "tweet", "gaps": True}, "gaps", "valid options: "),
        ({"words": "treebank", "preserve_line": True}, "preserve_line", "unknown option"),
        (
            {"sentences": "lines", "words": "wordpunct", "language": "english"},
            "language",
            "unknown option",
        ),
    ],
)
def test_bad_options_name_their_key(options, key, detail):
    with pytest.raises(ConfigError) as info:
        prepare("tokenize", options)
    message = str(info.value)
    assert message.startswith(f"options.{key}: "), message
    assert detail in message


def test_null_language_means_english():
    """A YAML `language:` with no value is null, which means the default."""
    assert prepare("tokenize", {"language": None}).options == prepare("tokenize", {}).options
