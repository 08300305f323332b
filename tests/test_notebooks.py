"""The notebooks run top to bottom in a real IPython kernel and leave no worker behind.

Each notebook runs in a fresh ``python3`` kernel of this interpreter, in its own folder
(as Jupyter runs it), with ``NLTK_DATA`` pointing at the shared data.  Workers are the
kernel's children, and would be re-parented away from this process once the kernel
exits, so they are looked for while the kernel still runs, after the last cell.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import psutil
import pytest
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from conftest import wait_gone

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
#: Seconds one cell may run; the notebooks' cells take a few seconds each.
CELL_TIMEOUT = 120
#: What each notebook must show: its charts (drawn by the inline backend, on Agg) and
#: its progress bars (tqdm.auto's notebook widget, not a text bar).
SHOWN = {
    "01_tour.ipynb": {"image/png": 2},
    "02_jobs.ipynb": {"application/vnd.jupyter.widget-view+json": 2},
    "03_counts.ipynb": {"image/png": 1},
}


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """The environment a kernel starts in: a ``python3`` kernelspec for this very
    interpreter first on ``JUPYTER_PATH`` (so a user-wide ``python3`` spec for another
    Python cannot shadow it), and Jupyter's and IPython's files in a temporary folder."""
    home = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(str(home / "kernels" / "python3"))
    env = {"JUPYTER_PATH": str(home), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "IPYTHONDIR": str(home / "ipython")}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        yield dict(os.environ)  # with NLTK_DATA, which conftest sets


def execute(nb: nbformat.NotebookNode, folder: Path, env: dict[str, str]) -> list[str]:
    """Run every cell of ``nb`` in a fresh kernel started in ``folder``; raises
    ``CellExecutionError`` for a failing cell.  Returns the names of the
    processes the kernel still has running after the last cell (killed before the
    kernel is shut down, so even a failing check leaves nothing behind)."""
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(folder)}})
    with client.setup_kernel(env=env):
        kernel = psutil.Process(client.km.provisioner.pid)
        assert kernel.cmdline()[0] == sys.executable, "the kernel runs another Python"
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        finally:
            left = _stop_leftovers(kernel)
    return left


def _stop_leftovers(kernel: psutil.Process) -> list[str]:
    children = {p.pid: p for p in kernel.children(recursive=True)}
    left = [children[pid] for pid in wait_gone(list(children), 5.0)]  # those being stopped
    names = []
    for process in left:
        try:
            names.append(process.name())
            process.kill()
        except psutil.NoSuchProcess:
            pass
    return sorted(names)


def test_there_are_notebooks():
    assert [path.name for path in NOTEBOOKS] == sorted(SHOWN)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, (
            f"{path.name}: cell {cell.id} has outputs; clear them before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_runs_top_to_bottom_and_leaves_no_worker(path, kernel_env, no_orphans):
    nb = nbformat.read(path, as_version=4)
    assert execute(nb, path.parent, kernel_env) == []
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    expected = SHOWN[path.name]
    shown = {kind: sum(kind in out.get("data", {}) for out in outputs) for kind in expected}
    assert shown == expected
    assert wait_gone(no_orphans(), 10.0) == []  # the kernel too is gone


def test_a_worker_left_running_is_found(tmp_path, kernel_env, no_orphans):
    nb = new_notebook(cells=[new_code_cell(
        "from nlp_parallel import GatewayPool\n"
        "pool = GatewayPool([('popen', 1)])\n"
        "pool.start()  # and never closed"
    )])
    left = execute(nb, tmp_path, kernel_env)
    assert left == ["python"]  # the worker; a kernel runs threads, so no fork server here
    assert wait_gone(no_orphans(), 10.0) == []
