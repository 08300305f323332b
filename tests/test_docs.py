"""The documentation, executed: every fenced example in docs/*.md and README.md runs,
and the site builds with warnings as errors.

What each fence means, page by page, in order, in a temporary directory of the
page's own (holding ``corpora_configs`` and the small files of tests/docs_files):

- ``python``: executed, all of a page's blocks in one namespace, as a script.  A
  block whose first line is ``# NAME.py`` is a module the page shows: it is written
  to NAME.py, importable by the blocks after it, and not executed.
- ``yaml``: a job file, checked as ``nlp-parallel validate`` checks it.  A whole job
  (``corpus`` and ``task``) is checked as it is; a fragment of one (``specs:``,
  ``dask:``, ``task:``) in a small job it completes.  ``<!-- file: NAME -->`` just
  before the block writes it to NAME, for the commands after it.
- ``console``: each ``$ `` line is run with bash and must exit 0; the lines between
  are output shown to the reader, not compared (timings and paths vary).
- ``bash``: the block run as one bash script, which must exit 0.
- ``<!-- exit: N -->`` just before a ``console`` block: its commands exit N, and each
  ``error:`` line it shows is exactly what the command says.
- ``<!-- not run: REASON -->`` just before a block leaves it out, and says why (an
  ssh host that does not exist, an install); the reason is required.
- Any other fence (none, ``text``) is output shown to the reader.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from nlp_parallel import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FILES = Path(__file__).resolve().parent / "docs_files"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
RUN = ("python", "yaml", "console", "bash")
#: What a job fragment is completed with: a few treebank sentences, stemmed.
BASE_JOB = {"corpus": {"name": "treebank", "limit": 20}, "task": {"name": "stem"},
            "output": {"path": "out/fragment.jsonl"}}

FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
MARK = re.compile(r"<!--\s*(?P<kind>not run|file|exit):\s*(?P<value>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    body: str
    skip: str | None  # why it is not run
    file: str | None  # where a yaml block is written
    exit: int  # what a shell block's commands exit with

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` with their markers, in order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        mark = MARK.match(before)
        indent = len(match["indent"])
        body = "\n".join(line[indent:] for line in match["body"].splitlines()) + "\n"
        found.append(Block(
            page, text.count("\n", 0, match.start()) + 1, match["lang"], body,
            skip=mark["value"] if mark and mark["kind"] == "not run" else None,
            file=mark["value"] if mark and mark["kind"] == "file" else None,
            exit=int(mark["value"]) if mark and mark["kind"] == "exit" else 0,
        ))
    return found


def page_dir(tmp_path: Path) -> Path:
    """A directory as a reader's checkout looks to the examples."""
    (tmp_path / "corpora_configs").symlink_to(ROOT / "corpora_configs")
    shutil.copytree(FILES, tmp_path, dirs_exist_ok=True)
    return tmp_path


def run_python(block: Block, namespace: dict, here: Path, number: int) -> None:
    first = block.body.split("\n", 1)[0].strip()
    module = re.fullmatch(r"#\s*(\w+\.py)", first)
    if module:
        (here / module[1]).write_text(block.body, encoding="utf-8")
        importlib.invalidate_caches()
        return
    # A file of its own, so that a shipped function's source can be found and a
    # traceback points at the example.
    path = here / f"_example_{number}.py"
    path.write_text(block.body, encoding="utf-8")
    exec(compile(block.body, str(path), "exec"), namespace)


def check_job(block: Block, here: Path, number: int) -> None:
    data = yaml.safe_load(block.body)
    assert isinstance(data, dict), f"{block.where}: a yaml example is a job or a part of one"
    whole = {"corpus", "task"} <= data.keys()
    path = here / (block.file or f"_job_{number}.yaml")
    text = block.body if whole else yaml.safe_dump({**BASE_JOB, **data}, sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["validate", str(path)])
    assert code == 0, f"{block.where}: the job does not validate:\n{err.getvalue()}"


def run_shell(block: Block, here: Path) -> None:
    if block.lang == "console":
        commands = [line[2:] for line in block.body.splitlines() if line.startswith("$ ")]
        assert commands, f"{block.where}: a console block shows a `$ ` command"
    else:
        commands = ["set -e\n" + block.body]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=here, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        assert done.returncode == block.exit, (f"{block.where}: `{command}` exited "
                                               f"{done.returncode}:\n{done.stdout}")
    if block.exit:
        # An example of a failure shows the error the reader will see: the very line.
        shown = [line for line in block.body.splitlines() if "error:" in line]
        assert shown, f"{block.where}: a failing example shows its error line"
        for line in shown:
            assert line in done.stdout, f"{block.where}: says\n{line}\nbut the run said\n{done.stdout}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = page_dir(tmp_path)
    monkeypatch.chdir(here)
    monkeypatch.syspath_prepend(str(here))
    before = set(sys.modules)
    namespace: dict = {"__name__": "__main__"}
    try:
        for number, block in enumerate(blocks(page)):
            if block.lang not in RUN:
                continue
            if block.skip is not None:
                assert block.skip, f"{block.where}: say why the block is not run"
                continue
            if block.lang == "python":
                run_python(block, namespace, here, number)
            elif block.lang == "yaml":
                check_job(block, here, number)
            else:
                run_shell(block, here)
    finally:
        # The page's own modules (remote_double, ...) are gone with its directory.
        for name in set(sys.modules) - before:
            if getattr(sys.modules[name], "__file__", None) and \
                    str(sys.modules[name].__file__).startswith(str(here)):
                del sys.modules[name]


def test_every_page_has_examples_that_run() -> None:
    """The conventions are kept: fences are closed and known, and most examples run."""
    for page in PAGES:
        found = blocks(page)
        text = page.read_text(encoding="utf-8")
        assert text.count("```") == 2 * len(found), f"{page.name}: an unmatched ``` fence"
        for block in found:
            assert block.lang in (*RUN, "", "text"), f"{block.where}: unknown fence {block.lang!r}"
    every = [b for page in PAGES for b in blocks(page) if b.lang in RUN]
    skipped = [b for b in every if b.skip is not None]
    assert len(skipped) * 4 < len(every), [b.where for b in skipped]


def test_readme_links_into_the_site() -> None:
    """The README's relative links (the site's pages, read on GitHub or in a checkout)
    lead to files that exist, and every page of the site is linked from it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = {link.split("#")[0] for link in re.findall(r"\]\(([^)#:]+(?:#[^)]*)?)\)", text)}
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, missing
    site = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!relative", ""))
    pages = {f"docs/{next(iter(entry.values()))}" for entry in site["nav"]}
    unlinked = sorted(pages - links - {"docs/changelog.md"})
    assert not unlinked, f"pages the README does not link: {unlinked}"


def test_site_builds_strict(tmp_path: Path) -> None:
    """`mkdocs build --strict`: a broken link, a missing page or a docstring the API
    reference cannot render fails the build."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout
    reference = (tmp_path / "site" / "reference" / "index.html").read_text(encoding="utf-8")
    import nlp_parallel
    for name in nlp_parallel.__all__:
        assert f'id="nlp_parallel.{name}"' in reference, f"{name} is not in the API reference"
    changelog = ROOT / "CHANGELOG.md"
    if changelog.exists():  # the site's changelog page includes it
        page = (tmp_path / "site" / "changelog" / "index.html").read_text(encoding="utf-8")
        for version in re.findall(r"^## \[([^\]]+)\]", changelog.read_text(encoding="utf-8"), re.M):
            assert version in page, f"CHANGELOG.md's {version} is not on the site's changelog page"
