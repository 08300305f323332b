"""Stemming in workers that have no NLTK data equals serial NLTK, for every stemmer."""

from __future__ import annotations

from typing import Any

import nltk.data
import pytest
from nltk.corpus import cess_esp, floresta
from nltk.stem import (
    ARLSTem,
    ARLSTem2,
    Cistem,
    ISRIStemmer,
    LancasterStemmer,
    RegexpStemmer,
    RSLPStemmer,
    SnowballStemmer,
)

import nlp_parallel
from nlp_parallel.errors import ConfigError, ResourceMissing
from nlp_parallel.tasks import prepare
from nlp_parallel.remote_tasks import stem as remote_stem

ARABIC = (
    "الكتاب كتب المكتبة يكتبون كاتب مكتوب والمعلمون المدرسة مدارس بالقلم فسيكتبونها "
    "الطالبات استخدام المستشفى يلعبون اللاعبين سيارات بيوت العربية الحكومة الرئيس وزارة "
    "الخارجية اجتماع المتحدة الأمم أخبار إسلام آخر مسؤول قالت تقول يقولون للطلاب كتابهم "
    "كتابها كتابكم معلمتي شجرة أشجار مهندسون مهندسين تعليم معلومات الاقتصاد اقتصادية "
    "سياسي سياسيون جميلة الجميلات فاكتبوا ذهبوا ذهبت سنذهب نستطيع يستطيعون استقبال "
    "المستقبل حضارة ثقافة كَتَبَ مُعَلِّم وبالتالي لمدرستنا تكتبين المسلمين"
).split()
GERMAN = (
    "Häuser Kinder Bücher gegangen Straße schönsten Verkäuferinnen Arbeitern Mädchen "
    "laufende Gesellschaften Regierung Entwicklungen aufgestanden Wissenschaftler "
    "Universitäten Fahrräder spielte gespielt Spielern Zeitungen Mannes Frauen größeren "
    "kleinste Bundesrepublik Deutschland Zusammenarbeit Menschen Lehrerin Lehrerinnen "
    "Computers Gebäude wichtigsten Schwierigkeiten Möglichkeit Bäume fröhlich Gärten "
    "Übersetzungen Speicherbehältern Grenzpostens Ausgefeiltere GROSSE Wohnungen"
).split()


def porter_test(name: str) -> list[str]:
    """One file of NLTK's porter_test package, as lines."""
    with nltk.data.find(f"stemmers/porter_test/{name}").open(encoding="utf-8") as f:
        return f.read().splitlines()


def distinct_words(tokens: list[str], count: int) -> list[str]:
    """The first ``count`` distinct alphabetic tokens, in corpus order."""
    return list(dict.fromkeys(t for t in tokens if t.isalpha()))[:count]


@pytest.fixture(scope="module")
def vocabulary() -> list[str]:
    return porter_test("porter_vocabulary.txt")


@pytest.fixture(scope="module")
def spanish() -> list[str]:
    return distinct_words(cess_esp.words()[:40000], 4000)


@pytest.fixture(scope="module")
def portuguese() -> list[str]:
    return distinct_words(floresta.words()[:40000], 4000)


def stem(pool: Any, items: list[Any], **options: Any) -> list[Any]:
    task = prepare("stem", options)
    return nlp_parallel.map(task.module, items, pool=pool, options=dict(task.options))


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("ORIGINAL_ALGORITHM", "porter_original_output.txt"),
        ("MARTIN_EXTENSIONS", "porter_martin_output.txt"),
        ("NLTK_EXTENSIONS", "porter_nltk_output.txt"),
    ],
)
def test_porter_modes_give_nltks_expected_outputs(dataless_pool, vocabulary, mode, expected):
    assert len(vocabulary) == 23531
    assert stem(dataless_pool, vocabulary, mode=mode) == porter_test(expected)


def test_porter_is_the_default():
    assert prepare("stem").options == {
        "algorithm": "porter",
        "lowercase": False,
        "exact_fast": True,
        "mode": "NLTK_EXTENSIONS",
    }


@pytest.mark.parametrize("language", ["spanish", "portuguese"])
def test_snowball_equals_serial(dataless_pool, request, language):
    words = request.getfixturevalue(language)  # the fixture of that language's corpus
    assert len(words) == 4000
    expected = [SnowballStemmer(language).stem(w) for w in words]
    assert stem(dataless_pool, words, algorithm="snowball", language=language) == expected


def test_snowball_ignoring_stopwords_equals_serial(dataless_pool, spanish):
    serial = SnowballStemmer("spanish", ignore_stopwords=True)
    expected = [serial.stem(w) for w in spanish]
    got = stem(
        dataless_pool, spanish, algorithm="snowball", language="spanish", ignore_stopwords=True
    )
    assert got == expected
    # The stopwords matter on this text: without them some stems differ.
    assert got != [SnowballStemmer("spanish").stem(w) for w in spanish]


def test_shipped_stopwords_rebuild_nltks_stemmer():
    task = prepare("stem", {"algorithm": "snowball", "language": "german", "ignore_stopwords": True})
    rebuilt = remote_stem.setup(task.options).stemmer
    assert rebuilt.stopwords == SnowballStemmer("german", ignore_stopwords=True).stopwords
    assert len(rebuilt.stopwords) > 200


def test_shipped_rslp_rules_parse_as_nltk_reads_them():
    task = prepare("stem", {"algorithm": "rslp"})
    assert remote_stem.setup(task.options).stemmer._model == RSLPStemmer()._model


def test_rslp_equals_serial(dataless_pool, portuguese):
    serial = RSLPStemmer()
    expected = [serial.stem(w) for w in portuguese]
    assert stem(dataless_pool, portuguese, algorithm="rslp") == expected


@pytest.mark.parametrize(
    "options, serial",
    [
        ({"algorithm": "lancaster"}, LancasterStemmer()),
        ({"algorithm": "lancaster", "strip_prefix": True}, LancasterStemmer(strip_prefix_flag=True)),
        (
            {"algorithm": "lancaster", "rules": ["sei3y>", "s1.", "gni3.", "de2."]},
            LancasterStemmer(("sei3y>", "s1.", "gni3.", "de2.")),
        ),
        (
            {"algorithm": "regexp", "pattern": "ing$|s$|e$|able$", "min": 4},
            RegexpStemmer("ing$|s$|e$|able$", min=4),
        ),
    ],
    ids=["lancaster", "lancaster-strip-prefix", "lancaster-rules", "regexp"],
)
def test_english_stemmers_equal_serial(dataless_pool, vocabulary, options, serial):
    words = vocabulary[::4]
    assert stem(dataless_pool, words, **options) == [serial.stem(w) for w in words]


@pytest.mark.parametrize(
    "algorithm, serial",
    [("isri", ISRIStemmer()), ("arlstem", ARLSTem()), ("arlstem2", ARLSTem2())],
)
def test_arabic_stemmers_equal_serial(dataless_pool, algorithm, serial):
    expected = [serial.stem(w) for w in ARABIC]
    assert expected != ARABIC
    assert stem(dataless_pool, ARABIC, algorithm=algorithm) == expected


@pytest.mark.parametrize("case_insensitive", [False, True])
def test_cistem_equals_serial(dataless_pool, case_insensitive):
    expected = [Cistem(case_insensitive).stem(w) for w in GERMAN]
    got = stem(dataless_pool, GERMAN, algorithm="cistem", case_insensitive=case_insensitive)
    assert got == expected


def test_lowercase_lowercases_each_token_first(dataless_pool):
    words = ["RUNNING", "Walking", "sings"]
    options = {"algorithm": "regexp", "pattern": "ing$|s$"}
    assert stem(dataless_pool, words, **options) == ["RUNNING", "Walk", "sing"]
    assert stem(dataless_pool, words, lowercase=True, **options) == ["runn", "walk", "sing"]


def test_a_list_of_tokens_gives_a_list_of_stems(dataless_pool):
    items = [["Running", "dogs"], "cats", [], ["ponies"]]
    assert stem(dataless_pool, items) == [["run", "dog"], "cat", [], ["poni"]]


@pytest.mark.parametrize(
    "options, key, says",
    [
        ({"algorithm": "portr"}, "algorithm", "did you mean 'porter'?"),
        ({"algorithm": "porter", "language": "spanish"}, "language", "unknown option"),
        ({"algorithm": "regexp", "pattern": "s$", "mode": "x"}, "mode", "unknown option"),
        ({"mode": "MARTIN_EXTENSION"}, "mode", "did you mean 'MARTIN_EXTENSIONS'?"),
        ({"algorithm": "snowball"}, "language", "needs a language"),
        ({"algorithm": "snowball", "language": "spansh"}, "language", "did you mean 'spanish'?"),
        (
            {"algorithm": "snowball", "language": "porter", "ignore_stopwords": True},
            "ignore_stopwords",
            "no list for 'porter'",
        ),
        ({"algorithm": "regexp", "pattern": "(ing"}, "pattern", "not a valid regular expression"),
        ({"algorithm": "regexp"}, "pattern", "needs this option"),
        ({"algorithm": "regexp", "pattern": 5}, "pattern", "expected a string"),
        ({"algorithm": "regexp", "pattern": "s$", "min": "4"}, "min", "expected an integer"),
        ({"algorithm": "regexp", "pattern": "s$", "min": -1}, "min", "at least 0"),
        ({"lowercase": "yes"}, "lowercase", "expected true or false"),
        ({"algorithm": "cistem", "case_insensitive": 1}, "case_insensitive", "true or false"),
        ({"algorithm": "lancaster", "rules": ["s1.", "bad rule"]}, "rules", "bad rule"),
        ({"algorithm": "lancaster", "rules": "s1."}, "rules", "list of rule strings"),
    ],
)
def test_bad_options_name_the_option(options, key, says):
    with pytest.raises(ConfigError) as info:
        prepare("stem", options)
    assert str(info.value).startswith(f"options.{key}: ")
    assert says in str(info.value)


@pytest.mark.parametrize(
    "options, package",
    [
        ({"algorithm": "rslp"}, "rslp"),
        ({"algorithm": "snowball", "language": "dutch", "ignore_stopwords": True}, "stopwords"),
    ],
)
def test_missing_nltk_data_names_the_package(monkeypatch, tmp_path, options, package):
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    with pytest.raises(ResourceMissing) as info:
        prepare("stem", options)
    assert info.value.package == package
    assert f"nlp-parallel data install {package}" in str(info.value)
