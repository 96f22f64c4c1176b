"""Books built on a real local Dask cluster (two worker processes, as `dask scheduler` and `dask
worker` start them), compared byte for byte with the local pool's build; one book broken on
purpose fails alone (book/cluster.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from book.cluster import build_on_cluster
from book.many import BookTask, build_books

from .helpers import ROOT, write_book

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed", reason="Dask is not installed (pip install -e '.[cluster]')")


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


def test_a_catalogue_on_a_dask_cluster_builds_as_the_local_pool_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the workers are started after this
    here, there = _books(tmp_path / "local"), _books(tmp_path / "cluster")
    local = build_books([BookTask(path, tmp_path / "out-local") for path in here], 2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert len(cluster.workers) == 2
        tasks = [BookTask(path, tmp_path / "out-cluster") for path in there]
        remote = build_on_cluster(tasks, cluster.scheduler_address)

    assert [o.ok for o in local] == [o.ok for o in remote] == [True, True, False]
    assert "seed file not found" in remote[2].error and "missing.txt" in remote[2].error
    for a, b in zip(local[:2], remote[:2], strict=True):
        assert a.title == b.title and a.pages == b.pages and set(a.outputs) == set(b.outputs) == {"epub", "pdf"}
        for fmt in a.outputs:
            assert Path(a.outputs[fmt][0]).read_bytes() == Path(b.outputs[fmt][0]).read_bytes(), fmt


def test_the_command_line_names_a_scheduler_that_does_not_answer(tmp_path: Path) -> None:
    from book.cli import main

    config = write_book(tmp_path, {"a.txt": "标题\n\n正文。\n"})
    assert main(["build", str(config), "--cluster", "tcp://127.0.0.1:9", "-q"]) == 2
