"""The distribution: a wheel that installs only ``nlp_parallel`` and runs from there,
its metadata, the version every way of asking gives, and task modules that stay
self-contained for the workers they are shipped to."""

from __future__ import annotations

import ast
import email
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from nltk.stem import PorterStemmer

import nlp_parallel
from nlp_parallel.tasks import FAMILIES, family

ROOT = Path(__file__).resolve().parent.parent
VERSION = nlp_parallel.__version__
REMOTE_TASKS = sorted((ROOT / "nlp_parallel" / "remote_tasks").glob("*.py"))
#: What a checkout holds that is no source: never copied into the build.
NOT_SOURCE = (".git", ".venv", "*.egg-info", "build", "dist", "out", "__pycache__",
              ".pytest_cache", ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints")


# --- the task modules workers run --------------------------------------------------


@pytest.mark.parametrize("path", REMOTE_TASKS, ids=lambda path: path.name)
def test_a_task_module_imports_only_the_standard_library_and_nltk(path):
    """Workers get a task module's source and have only Python (3.8 or newer) and
    NLTK: nothing of this package, not even by a relative import, and numpy only
    inside a function that can do without it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path), feature_version=(3, 8))
    stdlib = sys.stdlib_module_names | {"__future__"}
    for node in tree.body:
        assert set(_imported(node)) <= stdlib | {"nltk"}, ast.unparse(node)
    for node in ast.walk(tree):
        assert set(_imported(node)) <= stdlib | {"nltk", "numpy"}, ast.unparse(node)


def _imported(node: ast.AST) -> list[str]:
    """The top-level packages an import statement names; "." for a relative one."""
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return ["."] if node.level else [(node.module or "").split(".")[0]]
    return []


def test_every_task_module_is_found_among_the_toolkits_own():
    """The tasks name their modules by where they live in the package."""
    named = {family(name).MODULE for name in FAMILIES}
    assert named == {f"nlp_parallel.remote_tasks.{path.stem}"
                     for path in REMOTE_TASKS if path.stem != "__init__"}
    for name in named:
        assert importlib.util.find_spec(name) is not None


# --- the version -------------------------------------------------------------------


def test_the_version_is_the_same_every_way_it_is_asked(tmp_path):
    """``--version`` of the command and of ``python -m``, the package's
    ``__version__`` and the installed distribution's metadata agree, and the
    changelog has a release of that version."""
    assert metadata.version("nlp_parallel") == VERSION
    script = shutil.which("nlp-parallel", path=str(Path(sys.executable).parent))
    assert script is not None, "the nlp-parallel command is not installed beside Python"
    for command in ([script, "--version"], [sys.executable, "-m", "nlp_parallel", "--version"]):
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
        assert done.stdout == f"nlp-parallel {VERSION}\n"
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(VERSION)}\] - \d{{4}}-\d\d-\d\d$", changelog, re.M)
    assert re.search(rf"^\[{re.escape(VERSION)}\]: https://", changelog, re.M)


# --- the sdist and the wheel -------------------------------------------------------


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """An sdist and a wheel built from a copy of this checkout, as ``python -m build``
    does (the wheel from the sdist), with the build backend installed here: no
    network needed."""
    pytest.importorskip("build", reason="the build frontend is in the test extra")
    setuptools = tuple(int(part) for part in metadata.version("setuptools").split(".")[:2])
    if setuptools < (70, 1):
        pytest.skip("setuptools 70.1 or newer (the test extra) builds wheels by itself")
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE),
                    dirs_exist_ok=True)
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                           str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return {"sdist": next(out.glob("*.tar.gz")), "wheel": next(out.glob("*.whl"))}


def test_the_wheel_installs_only_the_nlp_parallel_package(dists):
    info = f"nlp_parallel-{VERSION}.dist-info/"
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
        top_level = wheel.read(info + "top_level.txt").decode()
        entry_points = wheel.read(info + "entry_points.txt").decode()
    assert dists["wheel"].name == f"nlp_parallel-{VERSION}-py3-none-any.whl"
    assert [name for name in names if not name.startswith(("nlp_parallel/", info))] == []
    assert top_level.split() == ["nlp_parallel"]
    assert "nlp-parallel = nlp_parallel.cli:run_command" in entry_points
    package = ROOT / "nlp_parallel"
    ours = {f"nlp_parallel/{path.relative_to(package).as_posix()}" for path in package.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}
    assert {name for name in names if not name.startswith(info)} == ours
    assert {"nlp_parallel/py.typed", "nlp_parallel/worker.py", "nlp_parallel/shard_reader.py",
            *(f"nlp_parallel/remote_tasks/{path.name}" for path in REMOTE_TASKS)} <= ours


def test_the_wheels_metadata_is_complete(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        text = wheel.read(f"nlp_parallel-{VERSION}.dist-info/METADATA").decode("utf-8")
    headers, description = text.split("\n\n", 1)
    meta = email.message_from_string(headers)
    assert meta["Name"] == "nlp_parallel" and meta["Version"] == VERSION
    assert meta["Requires-Python"] == ">=3.10"
    assert "MIT" in (meta["License-Expression"] or meta["License"])
    assert meta["Author"] == meta["Maintainer"] == "nlp_parallel developers"
    classifiers = meta.get_all("Classifier")
    assert {"Typing :: Typed", "Topic :: Text Processing :: Linguistic",
            *(f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 14)),
            } <= set(classifiers)
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert any(c.startswith("Operating System :: ") for c in classifiers)
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert set(urls) == {"Documentation", "Source", "Changelog", "Issues"}
    assert all(url.startswith("https://") for url in urls.values())
    assert {"dask", "notebooks", "test", "release"} <= set(meta.get_all("Provides-Extra"))
    assert meta["Description-Content-Type"] == "text/markdown"
    assert description.strip() == (ROOT / "README.md").read_text(encoding="utf-8").strip()


def test_the_sdist_holds_what_a_user_tests_and_runs_the_quickstart_with(dists):
    with tarfile.open(dists["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "setup.cfg", "pyproject.toml",
            "nlp_parallel/py.typed", "tests/conftest.py", "corpora_configs/quickstart.yaml",
            "corpora_configs/sample/corpora.txt"} <= names
    assert not any(name.startswith("remote_tasks/") for name in names)


def test_twine_accepts_both(dists):
    pytest.importorskip("twine", reason="twine is in the test extra")
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                           str(dists["sdist"]), str(dists["wheel"])],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_quickstart_runs_from_the_wheel_alone(dists, tmp_path):
    """Unpacked as an installer puts it, outside the checkout, the wheel's package
    runs the quickstart job: its workers find every task module it ships."""
    site = tmp_path / "site"
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        wheel.extractall(site)
    job = tmp_path / "job"
    shutil.copytree(ROOT / "corpora_configs" / "sample", job / "sample")
    shutil.copy(ROOT / "corpora_configs" / "quickstart.yaml", job)
    python = [sys.executable, "-s"]  # no user site; the working directory is tmp_path
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site)}
    where = subprocess.run([*python, "-c", "import nlp_parallel; print(nlp_parallel.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()) == site / "nlp_parallel" / "__init__.py"
    done = subprocess.run([*python, "-m", "nlp_parallel", "run", "--quiet",
                           str(job / "quickstart.yaml")],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in
               (tmp_path / "out" / "quickstart.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [record["index"] for record in records] == list(range(len(records))) != []
    stem = PorterStemmer().stem
    for record in records:
        for sentence in record["sentences"]:
            assert sentence["stems"] == [stem(token) for token in sentence["tokens"]] != []
