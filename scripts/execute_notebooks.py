"""Execute notebooks in place so that their stored outputs are the ones nbval compares.

Usage: python scripts/execute_notebooks.py [PATH ...]   (files or folders; default: notebooks)
"""
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient


def run(path: pathlib.Path) -> float:
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    # an error inside a display hook (e.g. a mathtext error while drawing a
    # figure) does not stop execution: refuse to store such a notebook
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and "raises-exception" not in tags:
                raise RuntimeError(f"{path}: a cell produced {out['ename']}: {out['evalue']}")
    for cell in nb.cells:
        if cell.cell_type == "code":  # markdown cells have no outputs (nbformat.validate)
            cell["outputs"] = _coalesce_streams(cell.get("outputs", []))
    nbformat.write(nb, path)
    return time.perf_counter() - t0


def _coalesce_streams(outputs):
    """Merge consecutive outputs of one stream: under load the kernel may send one
    ``print`` in two messages, which would change the stored text nbval compares."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = prev["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def main(args):
    targets = [pathlib.Path(a) for a in (args or ["notebooks"])]
    paths = []
    for t in targets:
        paths += sorted(t.rglob("*.ipynb")) if t.is_dir() else [t]
    for p in paths:
        if ".ipynb_checkpoints" in p.parts:
            continue
        print(f"{p}: {run(p):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
