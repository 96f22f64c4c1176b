"""Books built on a real local Dask cluster, started as a press starts one (`dask scheduler` and
`dask worker --nworkers 2`, processes of their own), through the command line's --cluster; the
outputs compared byte for byte with the local pool's build; one book broken on purpose fails alone
(book/cluster.py). Nothing of Dask runs in the test's own process: its threads would stay, and a
process with threads may not fork (the other tests' printing)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import ROOT, write_book

pytestmark = pytest.mark.slow
pytest.importorskip("distributed", reason="Dask is not installed (pip install -e '.[cluster]')")


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """A Dask scheduler and two worker processes (one thread each) on this machine: its address."""
    info = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--scheduler-file", str(info), *common],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    try:
        for _ in range(300):
            if info.exists() and info.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2", "--nthreads", "1",
                 *common],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        _wait_for_workers(address, 2)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=60)


def _wait_for_workers(address: str, count: int) -> None:
    script = (
        "import sys; from distributed import Client\n"
        f"with Client({address!r}, timeout=60) as c: c.wait_for_workers({count}, timeout=120)"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=180)


def _books(folder: Path) -> list[Path]:
    """The default book, a book long enough to print in pieces, and a book whose seed is missing."""
    shutil.copytree(ROOT / "seeds", folder / "seed" / "seeds")
    shutil.copy(ROOT / "book.yaml", folder / "seed" / "book.yaml")
    chapters = "\n\n".join(
        f"第{n}章\n\n" + "\n\n".join(f"这是第{n}章的第{k}段，写得平平常常，只为让书足够长。" * 12 for k in range(12))
        for n in range(1, 13)
    )
    long = write_book(folder / "long", {"long.txt": chapters}, "title: 长书\n")
    broken = folder / "broken" / "book.yaml"
    broken.parent.mkdir()
    broken.write_text("seeds: [missing.txt]\n", encoding="utf-8")
    return [folder / "seed" / "book.yaml", long, broken]


def _publish(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    command = [sys.executable, str(ROOT / "publish.py"), "build", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)


def test_a_catalogue_on_a_dask_cluster_builds_as_the_local_pool_does(scheduler: str, tmp_path: Path) -> None:
    here, there = _books(tmp_path / "local"), _books(tmp_path / "cluster")
    local = _publish(*map(str, here), "-o", str(tmp_path / "out-local"), "-j", "2")
    remote = _publish(*map(str, there), "-o", str(tmp_path / "out-cluster"), "--cluster", scheduler)

    assert local.returncode == remote.returncode == 1  # one book failed
    for output in (local.stdout, remote.stdout):
        rows = output.splitlines()
        assert [row.split()[0] for row in rows[:3]] == ["OK", "OK", "FAIL"], output
        assert "seed file not found" in rows[2] and rows[3] == "2 of 3 books built"
    made = sorted(path.relative_to(tmp_path / "out-local") for path in (tmp_path / "out-local").rglob("*.*"))
    assert [path.suffix for path in made] == [".epub", ".pdf", ".epub", ".pdf"]
    for path in made:
        assert (tmp_path / "out-local" / path).read_bytes() == (tmp_path / "out-cluster" / path).read_bytes(), path


def test_the_command_line_names_a_scheduler_that_does_not_answer(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"a.txt": "标题\n\n正文。\n"})
    result = _publish(str(config), "--cluster", "tcp://127.0.0.1:9", "-q")
    assert result.returncode == 2
    assert result.stderr.startswith("error: tcp://127.0.0.1:9: no Dask scheduler answers"), result.stderr
