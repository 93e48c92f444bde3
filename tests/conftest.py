"""Shared test set-up: the device fixture and the list of example scripts."""

import os
import re
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(
    p.relative_to(ROOT).as_posix()
    for p in (ROOT / "examples").rglob("*.py")
    if "__pycache__" not in p.parts
)
# examples/notebooks/*.py are notebooks (jupytext percent format): top-to-bottom
# cells, no main(); the site executes them at build time.
NOTEBOOKS = [s for s in SCRIPTS if s.startswith("examples/notebooks/")]
EXAMPLES = [s for s in SCRIPTS if s not in NOTEBOOKS]
PAGES = sorted((ROOT / "docs").rglob("*.md"))

# Keras examples run on the torch backend; keep Keras's config file out of $HOME.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="keras-home-"))

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
DEVICES = ["cpu", pytest.param("cuda", marks=cuda)]


@pytest.fixture(params=DEVICES)
def device(request):
    """Every example runs on the CPU, and on the GPU when there is one."""
    return request.param


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def normalize(text):
    """Text as compared with a page's quote: no ANSI codes, no trailing spaces."""
    return "\n".join(line.rstrip() for line in ANSI.sub("", text).splitlines())
