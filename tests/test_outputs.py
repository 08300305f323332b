"""What a run does to the files at and beside its output path, as a user sees it.

The output, its errors list, part files and checkpoint are only ever regular files:
anything else there (a symbolic link, a FIFO, a device node) is refused before any
work starts and left exactly as it was.  Runs that could hang on a FIFO run in a
subprocess with a timeout, so a regression fails the test instead of hanging it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nlp_parallel.cli import main
from nlp_parallel.jobs import load_job
from nlp_parallel.outputs import OutputFile
from nlp_parallel.runner import run_job

from conftest import interrupted

JOB = """\
    corpus: {name: treebank, view: sents, limit: LIMIT}
    task: {name: stem}
    specs: [[popen, 2]]
    on_error: ON_ERROR
    output: {path: OUT}
    """


def write_job(tmp_path: Path, out: Path, limit: int = 50, on_error: str = "fail",
              name: str = "job") -> Path:
    job = tmp_path / f"{name}.yaml"
    text = textwrap.dedent(JOB).replace("OUT", str(out)).replace("LIMIT", str(limit))
    job.write_text(text.replace("ON_ERROR", on_error), encoding="utf-8")
    return job


def run_cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """``nlp-parallel`` as a user runs it, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "nlp_parallel", *args], capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def beside(out: Path, which: str) -> Path:
    """The files a run writes beside ``out``."""
    return {
        "errors": out.with_name(f"{out.name}.errors.jsonl"),
        "part": out.with_name(f".{out.name}.part"),
        "errors part": out.with_name(f".{out.name}.errors.jsonl.part"),
        "checkpoint": out.with_name(f"{out.name}.checkpoint"),
        "checkpoint temp": out.with_name(f"{out.name}.checkpoint.tmp"),
        "render": out.with_name(f".{out.name}.render"),  # a count's output, being written
    }[which]


# -- the output path is not a regular file ------------------------------------------


def not_regular(job: Path, out: Path, kind: str) -> str:
    return (f"nlp-parallel: error: {job}: output.path: {out} is {kind}, not a regular file; "
            f"write the output to a regular file or a path that does not exist yet")


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_symlink_at_the_output_is_left_as_it_is(tmp_path, capsys, overwrite):
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("precious\n")
    out = tmp_path / "out.jsonl"
    out.symlink_to(target)
    job = write_job(tmp_path, out)
    assert main(["run", str(job), "--quiet", *overwrite]) == 2
    assert lines(capsys.readouterr().err) == [not_regular(job, out, "a symbolic link")]
    assert out.is_symlink() and os.readlink(out) == str(target)
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.jsonl", "job.yaml",
                                                          "out.jsonl"]


def test_a_dangling_symlink_at_the_output_is_left_as_it_is(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.symlink_to(tmp_path / "nowhere")
    job = write_job(tmp_path, out)
    assert main(["run", str(job), "--quiet"]) == 2
    assert lines(capsys.readouterr().err) == [not_regular(job, out, "a symbolic link")]
    assert out.is_symlink() and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_fifo_at_the_output_is_left_as_it_is(tmp_path, overwrite):
    out = tmp_path / "out.jsonl"
    os.mkfifo(out)
    job = write_job(tmp_path, out)
    for command in (["validate", str(job)], ["run", str(job), "--quiet"],
                    ["run", str(job), "--quiet", "--resume"]):
        proc = run_cli(*command, *overwrite, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert lines(proc.stderr) == [not_regular(job, out, "a FIFO")]
        assert stat.S_ISFIFO(out.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml", "out.jsonl"]


def test_the_real_dev_null_is_refused_by_validate(tmp_path):
    """validate never writes, so it can be pointed at the system's /dev/null safely."""
    job = write_job(tmp_path, Path("/dev/null"))
    proc = run_cli("validate", str(job), "--overwrite", timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert lines(proc.stderr) == [not_regular(job, Path("/dev/null"), "a character device")]


@pytest.fixture
def device_node(tmp_path) -> Path:
    """A node of /dev/null's device (1, 3) in tmp, so no run can touch the real one."""
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root")
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError as exc:
        pytest.skip(f"mknod is not permitted here: {exc}")
    return node


def test_a_device_node_at_the_output_is_left_as_it_is(tmp_path, device_node):
    job = write_job(tmp_path, device_node)
    before = device_node.lstat()
    proc = run_cli("run", str(job), "--output", str(device_node), "--overwrite", "--quiet",
                   timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert lines(proc.stderr) == [not_regular(job, device_node, "a character device")]
    after = device_node.lstat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml", "null"]


# -- the files beside it are not regular files ------------------------------------------


@pytest.mark.parametrize("which", ["errors", "part", "errors part", "checkpoint",
                                   "checkpoint temp", "render"])
def test_a_symlink_beside_the_output_is_left_as_it_is(tmp_path, capsys, which):
    out = tmp_path / "out.jsonl"
    target = tmp_path / "elsewhere"
    target.write_text("precious\n")
    link = beside(out, which)
    link.symlink_to(target)
    job = write_job(tmp_path, out, on_error="record")
    assert main(["run", str(job), "--quiet", "--overwrite"]) == 2
    assert lines(capsys.readouterr().err) == [
        f"nlp-parallel: error: {job}: output.path: {link}, which a run writes beside {out}, "
        f"is a symbolic link, not a regular file; move it away or write the output elsewhere"]
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "precious\n"
    assert not out.exists()


@pytest.mark.parametrize("which", ["errors", "part", "checkpoint", "checkpoint temp"])
def test_a_fifo_beside_the_output_is_left_as_it_is(tmp_path, which):
    out = tmp_path / "out.jsonl"
    fifo = beside(out, which)
    os.mkfifo(fifo)
    job = write_job(tmp_path, out, on_error="skip")
    for args in ([], ["--resume"], ["--overwrite"]):
        proc = run_cli("run", str(job), "--quiet", *args, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert lines(proc.stderr) == [
            f"nlp-parallel: error: {job}: output.path: {fifo}, which a run writes beside "
            f"{out}, is a FIFO, not a regular file; move it away or write the output elsewhere"]
        assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert not out.exists()


# -- the disk fills up ----------------------------------------------------------------


#: Runs the CLI with a file-size limit (bytes, or "none") on every file it writes.
LIMITED = """\
import resource, signal, sys

import nlp_parallel.outputs
from nlp_parallel.cli import main

# A checkpoint after every chunk, so that one is saved before the disk is full
# however fast this machine writes.
nlp_parallel.outputs.CHECKPOINT_EVERY = 0.0
if sys.argv[1] != "none":
    # Past the limit a write fails with EFBIG, rather than SIGXFSZ killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
sys.exit(main(sys.argv[2:]))
"""

BROWN = """\
    corpus: {name: brown, view: sents, limit: 5000}
    task: {name: stem}
    specs: [[popen, 2]]
    output: {path: OUT}
    """


def brown_job(tmp_path: Path, out: Path) -> Path:
    job = tmp_path / "brown.yaml"
    job.write_text(textwrap.dedent(BROWN).replace("OUT", str(out)), encoding="utf-8")
    return job


@pytest.fixture(scope="module")
def clean_brown(tmp_path_factory) -> bytes:
    """The output of the brown job, undisturbed."""
    tmp_path = tmp_path_factory.mktemp("clean")
    out = tmp_path / "out.jsonl"
    assert main(["run", str(brown_job(tmp_path, out)), "--quiet"]) == 0
    return out.read_bytes()


def run_limited(tmp_path: Path, limit: int | None, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "limited.py"
    script.write_text(LIMITED, encoding="utf-8")
    return subprocess.run([sys.executable, str(script), str(limit or "none"), *args],
                          capture_output=True, text=True, timeout=180)


def checkpoint(out: Path) -> dict:
    return json.loads(beside(out, "checkpoint").read_text(encoding="utf-8"))


def kept(out: Path, job: Path) -> str:
    """The line that says how to resume after a run stopped early."""
    return (f"nlp-parallel: {checkpoint(out)['items']:,} items are written and kept; "
            f"continue with `nlp-parallel run {job} --resume`")


def assert_resumable(out: Path) -> None:
    """The part files end where the checkpoint says, and nothing else was left."""
    saved = checkpoint(out)
    assert 0 < saved["items"] < 5000
    assert beside(out, "part").stat().st_size == saved["offset"]
    assert beside(out, "errors part").stat().st_size == saved["errors_offset"] == 0
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith((".out", "out"))
                  ) == [".out.jsonl.errors.jsonl.part", ".out.jsonl.part",
                        "out.jsonl.checkpoint"]


def test_a_file_size_limit_stops_the_run_resumably(tmp_path, clean_brown):
    out = tmp_path / "out.jsonl"
    job = brown_job(tmp_path, out)
    proc = run_limited(tmp_path, len(clean_brown) // 2, "run", str(job), "--quiet")
    assert proc.returncode == 1, proc.stderr
    assert lines(proc.stderr) == [
        f"nlp-parallel: error: cannot write {beside(out, 'part')}: File too large",
        kept(out, job)]
    assert_resumable(out)
    proc = run_cli("run", str(job), "--resume", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == clean_brown
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brown.yaml", "limited.py",
                                                          "out.jsonl", "out.jsonl.report.json"]


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of its own (mounted by the test, so root only), unmounted after it.

    Yields ``mount(options)``, which mounts or remounts it with tmpfs ``options``
    (``size=1m``, ``nr_inodes=4``) and returns its path."""
    disk = tmp_path / "disk"
    disk.mkdir()

    def mount(options: str) -> Path:
        command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(disk)]
        if os.path.ismount(disk):
            command = ["mount", "-o", f"remount,{options}", str(disk)]
        proc = subprocess.run(command, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return disk

    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill up needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(disk)]).returncode != 0:
            # Busy (a driver the test could not stop?): detach it all the same.
            subprocess.run(["umount", "--lazy", str(disk)], check=True)


def test_a_full_disk_stops_the_run_resumably(tmp_path, small_disk, clean_brown):
    disk = small_disk("size=1m")  # about half the output
    out = disk / "out.jsonl"
    job = brown_job(tmp_path, out)
    proc = run_limited(tmp_path, None, "run", str(job), "--quiet")
    assert proc.returncode == 1, proc.stderr
    # Whichever write found the disk full: the part file's or the checkpoint's.
    error, hint = lines(proc.stderr)
    assert error in (f"nlp-parallel: error: cannot write {beside(out, which)}: No space left "
                     f"on device" for which in ("part", "checkpoint")), error
    assert hint == kept(out, job)
    assert_resumable(out)

    # Room for data but no file for a new checkpoint: the one before it holds.
    before = beside(out, "checkpoint").read_bytes()
    small_disk("size=64m,nr_inodes=4")  # the root and the three files there
    proc = run_limited(tmp_path, None, "run", str(job), "--resume", "--quiet")
    assert proc.returncode == 1, proc.stderr
    assert lines(proc.stderr) == [
        f"nlp-parallel: error: cannot write {beside(out, 'checkpoint')}: No space left on device",
        kept(out, job)]
    assert beside(out, "checkpoint").read_bytes() == before
    assert_resumable(out)

    small_disk("size=64m,nr_inodes=100")
    proc = run_cli("run", str(job), "--resume", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == clean_brown
    assert sorted(p.name for p in disk.iterdir()) == ["out.jsonl", "out.jsonl.report.json"]


@pytest.mark.parametrize("inodes, which", [
    (2, "errors part"),  # the root and the part file: no errors list
    (3, "checkpoint"),  # the root and the two part files: no checkpoint
])
def test_a_disk_full_before_the_first_checkpoint_keeps_nothing(tmp_path, small_disk,
                                                               clean_brown, inodes, which):
    disk = small_disk(f"size=64m,nr_inodes={inodes}")
    out = disk / "out.jsonl"
    job = brown_job(tmp_path, out)
    proc = run_limited(tmp_path, None, "run", str(job), "--quiet")
    assert proc.returncode == 1, proc.stderr
    assert lines(proc.stderr) == [
        f"nlp-parallel: error: cannot write {beside(out, which)}: No space left on device"]
    assert list(disk.iterdir()) == []
    small_disk("size=64m,nr_inodes=100")
    proc = run_cli("run", str(job), "--resume", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == clean_brown


# -- another run, changed settings, an unreadable checkpoint ----------------------------


def test_a_run_started_while_another_writes_the_output_is_refused(tmp_path, capsys,
                                                                  clean_brown):
    out = tmp_path / "out.jsonl"
    job = brown_job(tmp_path, out)
    script = tmp_path / "limited.py"
    script.write_text(LIMITED, encoding="utf-8")
    first = subprocess.Popen([sys.executable, str(script), "none", "run", str(job), "--quiet"],
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not beside(out, "checkpoint").exists():
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "no checkpoint"
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGSTOP)  # hold it mid-run, its lock held
        assert first.poll() is None, "the first run ended before it could be held"
        held = beside(out, "part").read_bytes(), beside(out, "checkpoint").read_bytes()
        expected = (f"nlp-parallel: error: {job}: output.path: another run is writing {out} "
                    f"(it holds {beside(out, 'part')}); wait for it to finish, or stop it "
                    f"first")
        for args in (["run"], ["run", "--resume"], ["run", "--overwrite"], ["validate"]):
            assert main([args[0], str(job), *args[1:]]) == 2
            assert lines(capsys.readouterr().err) == [expected]
        assert (beside(out, "part").read_bytes(), beside(out, "checkpoint").read_bytes()) == held
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert first.wait(120) == 0, first.stderr.read()
    assert out.read_bytes() == clean_brown


TREEBANK = """\
    corpus: {name: treebank, view: sents, limit: 1500}
    task: {name: stem, options: OPTIONS}
    specs: [[popen, 2]]
    batch_size: 50
    on_error: ON_ERROR
    output: {path: OUT}
    """


def treebank_job(tmp_path: Path, out: Path, options: str = "{}", on_error: str = "fail") -> Path:
    job = tmp_path / "tb.yaml"
    text = textwrap.dedent(TREEBANK).replace("OUT", str(out)).replace("OPTIONS", options)
    job.write_text(text.replace("ON_ERROR", on_error), encoding="utf-8")
    return job


@pytest.mark.parametrize("change, args, named", [
    ({"on_error": "skip"}, [], "on_error changed since the interrupted run; restore it"),
    ({}, ["--limit", "1400"], "corpus.limit changed since the interrupted run; restore it"),
    ({"options": "{algorithm: snowball, language: english}"}, [],
     "task.options.algorithm and task.options.language changed since the interrupted run; "
     "restore them"),
    ({"on_error": "record"}, ["--limit", "1400"],
     "corpus.limit and on_error changed since the interrupted run; restore them"),
])
def test_a_refused_resume_names_exactly_what_changed(tmp_path, capsys, change, args, named):
    out = tmp_path / "tb.jsonl"
    job = treebank_job(tmp_path, out)
    interrupted(job, 300)
    held = beside(out, "part").read_bytes(), beside(out, "checkpoint").read_bytes()
    treebank_job(tmp_path, out, **change)
    assert main(["run", str(job), "--resume", "--quiet", *args]) == 2
    assert lines(capsys.readouterr().err) == [
        f"nlp-parallel: error: {job}: output.path: cannot resume {out}: the job's {named}, "
        f"or pass --overwrite instead of --resume to start over"]
    assert (beside(out, "part").read_bytes(), beside(out, "checkpoint").read_bytes()) == held

    treebank_job(tmp_path, out)  # restored: the resume goes on, to a clean run's bytes
    assert main(["run", str(job), "--resume", "--quiet"]) == 0
    clean = tmp_path / "clean.jsonl"
    assert main(["run", str(job), "--output", str(clean), "--quiet"]) == 0
    assert out.read_bytes() == clean.read_bytes()


@pytest.mark.parametrize("text, detail", [
    ("{not json", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ('{"items": 3}', "Checkpoint.__init__() missing 6 required positional arguments: "
                     "'settings', 'described', 'last_index', 'offset', 'errors_offset', and "
                     "'failures'"),
])
def test_overwrite_starts_over_past_an_unreadable_checkpoint(tmp_path, capsys, text, detail):
    out = tmp_path / "tb.jsonl"
    job = treebank_job(tmp_path, out)
    beside(out, "checkpoint").write_text(text, encoding="utf-8")
    beside(out, "part").write_text("half a li", encoding="utf-8")
    for args in ([], ["--resume"]):
        assert main(["run", str(job), "--quiet", *args]) == 2
        assert lines(capsys.readouterr().err) == [
            f"nlp-parallel: error: {job}: output.path: {out}.checkpoint is not a checkpoint "
            f"this version can read ({detail}); pass --overwrite (without --resume) to start "
            f"over"]
        assert beside(out, "checkpoint").read_text(encoding="utf-8") == text
    assert main(["run", str(job), "--quiet", "--overwrite"]) == 0
    clean = tmp_path / "clean.jsonl"
    assert main(["run", str(job), "--output", str(clean), "--quiet"]) == 0
    assert out.read_bytes() == clean.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "clean.jsonl", "clean.jsonl.report.json", "tb.jsonl", "tb.jsonl.report.json", "tb.yaml"]


def test_starting_over_removes_the_old_checkpoint_before_the_part_file_is_cut(tmp_path):
    """Killed at any moment after an --overwrite run starts, no checkpoint is left that
    describes the bytes it cut: a resume is a fresh run, not a refusal."""
    out = tmp_path / "tb.jsonl"
    job = treebank_job(tmp_path, out)
    interrupted(job, 300)
    with OutputFile(str(out), overwrite=True) as output:
        output.open()
        assert not beside(out, "checkpoint").exists()
        assert beside(out, "part").stat().st_size == 0


# -- a file appears at the output during the run -----------------------------------------


def appears_during_run(job: Path, out: Path) -> None:
    """Run ``job`` in this process; another program writes ``out`` meanwhile."""
    def progress(count: int) -> None:
        if not out.exists():
            out.write_text("precious\n")

    run_job(load_job(str(job)), progress)


def test_an_output_that_appears_during_the_run_is_not_replaced(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    job = write_job(tmp_path, out, limit=400)
    clean = tmp_path / "clean.jsonl"
    assert main(["run", str(job), "--output", str(clean), "--quiet"]) == 0
    from nlp_parallel import OutputAppeared

    with pytest.raises(OutputAppeared):
        appears_during_run(job, out)
    assert out.read_text() == "precious\n"
    expected = [f"nlp-parallel: error: {out} appeared during the run and this run may not "
                f"replace it (no --overwrite); the result is kept in {beside(out, 'part')}: "
                f"move {out} away and resume, or resume with --overwrite to replace it",
                f"nlp-parallel: 400 items are written and kept; continue with "
                f"`nlp-parallel run {job} --resume`"]
    capsys.readouterr()
    assert main(["run", str(job), "--resume", "--quiet"]) == 1
    assert lines(capsys.readouterr().err) == expected
    assert out.read_text() == "precious\n"
    out.unlink()
    assert main(["run", str(job), "--resume", "--quiet"]) == 0
    assert out.read_bytes() == clean.read_bytes()


def test_a_run_with_overwrite_may_replace_what_appears_and_so_may_its_resumption(tmp_path):
    out = tmp_path / "out.jsonl"
    job = write_job(tmp_path, out, limit=400)
    clean = tmp_path / "clean.jsonl"
    assert main(["run", str(job), "--output", str(clean), "--quiet"]) == 0
    with pytest.raises(KeyboardInterrupt):
        def progress(count: int) -> None:
            out.write_text("precious\n")
            raise KeyboardInterrupt

        run_job(load_job(str(job)).with_overrides(
            output=dataclasses.replace(load_job(str(job)).output, overwrite=True)), progress)
    assert main(["run", str(job), "--resume", "--quiet"]) == 0, "it inherits --overwrite"
    assert out.read_bytes() == clean.read_bytes()


def test_bad_data_found_by_a_resumed_run_keeps_what_earlier_runs_wrote(tmp_path, capsys):
    """A broken line past where the interrupted run stopped: the resumed run stops
    (exit 2) naming it, and once it is mended the run resumes to the clean bytes."""
    corpus = tmp_path / "items.jsonl"
    good = [json.dumps({"tokens": ["word", str(i)]}) + "\n" for i in range(3000)]
    corpus.write_text("".join(good))
    out = tmp_path / "out.jsonl"
    job = tmp_path / "job.yaml"
    job.write_text(textwrap.dedent(f"""\
        corpus: {{path: items.jsonl, format: jsonl, view: sents}}
        task: {{name: stem}}
        specs: [[popen, 2]]
        output: {{path: {out}}}
        """))
    clean = tmp_path / "clean.jsonl"
    assert main(["run", str(job), "--output", str(clean), "--quiet"]) == 0

    interrupted(job, 1)
    written = checkpoint(out)["items"]
    assert 0 < written < 2999
    corpus.write_text("".join(good[:2999]) + "{broken\n")
    capsys.readouterr()
    assert main(["run", str(job), "--resume", "--quiet"]) == 2
    assert "items.jsonl" in capsys.readouterr().err
    assert checkpoint(out)["items"] >= written, "what the first run wrote is kept"
    corpus.write_text("".join(good))
    assert main(["run", str(job), "--resume", "--quiet"]) == 0
    assert out.read_bytes() == clean.read_bytes()


def test_a_checkpoint_of_another_version_is_not_resumed(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    job = treebank_job(tmp_path, out)
    interrupted(job, 100)
    saved = checkpoint(out)
    beside(out, "checkpoint").write_text(json.dumps({**saved, "version": 99}))
    assert main(["run", str(job), "--resume"]) == 2
    assert lines(capsys.readouterr().err) == [
        f"nlp-parallel: error: {job}: output.path: {out}.checkpoint is not a checkpoint this "
        f"version can read (version 99, not 1); pass --overwrite (without --resume) to "
        f"start over"]
