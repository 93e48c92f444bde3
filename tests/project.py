"""The project's files as the tests see them, and the two ways to run an example.

- `load_script(script)` imports a script of the repository (an example, a tool, a
  hook, ...) as a module (to call its `main()` or its functions).
- `build_site(site_dir)` builds the site as `mkdocs build --strict` does.
- `changed_files()` lists what git sees changed (to catch a test writing into the
  repository).
- `restored_process_state()` puts back what code run in the test process (an
  inline block) changed in it.
- `run_script(script, args, cwd)` runs it as `python script.py ARGS` does: a new
  process whose `__name__` is `"__main__"`, with its own global state, its stdout
  and stderr captured. The process is forked from a server that has already
  imported torch (multiprocessing's forkserver), so a run does not pay the 1.5 s
  of `import torch` again; nothing else is shared with the tests.
"""

import ast
import contextlib
import importlib.util
import multiprocessing
import os
import re
import runpy
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from pageformat import NOTEBOOK_FOLDER

ROOT = Path(__file__).resolve().parent.parent


def scripts_in(folder):
    """The scripts under `folder` ("examples"), as paths relative to the repository."""
    return sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in p.parts
    )


SCRIPTS = scripts_in("examples")
# Notebooks (examples/notebooks/*.py, jupytext percent format): top-to-bottom
# cells, no main(); the site executes them at build time.
NOTEBOOKS = [s for s in SCRIPTS if s.startswith(NOTEBOOK_FOLDER)]
EXAMPLES = [s for s in SCRIPTS if s not in NOTEBOOKS]
# Scripts under tools/ are not examples: the pages quote and link them as they do
# examples, but they are not bound by the example contract.
TOOLS = scripts_in("tools")

GPU_FILES = ROOT / "data" / "gpu-checkpoints"
# The scripts that read checkpoints saved on a GPU (data/gpu-checkpoints/), with the
# files each reads: the first is the one its --checkpoint option names.
NEEDS_GPU_FILES = {
    "examples/devices/gpu_checkpoint.py": [
        "mymodel_state_dict_cuda.pt",
        "fixtures.json",
    ],
    "examples/devices/training_checkpoint.py": ["checkpoint_cuda.pt"],
    "examples/troubleshooting/cuda_checkpoint_on_cpu.py": [
        "mymodel_state_dict_cuda.pt",
        "fixtures.json",
    ],
    "examples/troubleshooting/weights_only_whole_model.py": ["mymodel_entire_cuda.pt"],
}
# The scripts that run a tool (tools/) that a reader downloads into the same folder.
NEEDS_TOOLS = {
    "examples/inspect/inspect_a_checkpoint.py": ["tools/inspect_checkpoint.py"],
}


def release_of(version):
    """The major.minor release of a torch version string: "2.6.0+cu124" -> "2.6"."""
    m = re.match(r"(\d+)\.(\d+)", str(version))
    return f"{m[1]}.{m[2]}"


# The installed torch's release: an output block titled "... on PyTorch 2.6" is
# checked on 2.6 only; the same for this Python and "... on Python 3.12 and later".
RELEASE = release_of(version("torch"))
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def _noxfile_list(name):
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            return list(ast.literal_eval(node.value))
    raise LookupError(f"noxfile.py has no {name}")


def matrix_releases():
    """The torch versions the matrix runs (RELEASES in noxfile.py): "2.15.0", ..."""
    return _noxfile_list("RELEASES")


def matrix_pythons():
    """The Pythons the project runs on: the oldest that pyproject.toml's
    requires-python admits (the pin's own), then PYTHONS in noxfile.py."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    oldest = re.fullmatch(r">=\s*(\d+\.\d+)", requires["requires-python"])[1]
    return [oldest, *_noxfile_list("PYTHONS")]


def changed_files(root=ROOT):
    """Files that differ from git's index or are new (ignored files aside)."""
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:  # not a git checkout: nothing to compare
        return set()
    return set(result.stdout.splitlines())


def build_site(site_dir, root=ROOT):
    """`mkdocs build --strict` of the site in `root` into `site_dir`: links and
    anchors checked, the build hooks run. The finished process."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", site_dir],
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life notice
        capture_output=True,
        text=True,
    )


def load_script(script):
    """Import a script of the repository (`examples/...py`, `tools/...py`,
    `scripts/...py`, `hooks/...py`) as a module, registered so torch.save can
    pickle its classes."""
    name = "script_" + re.sub(r"\W", "_", str(script).removesuffix(".py"))
    spec = importlib.util.spec_from_file_location(name, ROOT / script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def _run_as_main(script, args, cwd, env, stdout_path, stderr_path):
    """In the forked process: become `python script ARGS` and run."""
    for fd, path in ((1, stdout_path), (2, stderr_path)):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = [str(script), *map(str, args)]
    sys.path.insert(0, str(Path(script).parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


_context = None


def _forkserver():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["torch"])
    return _context


def start_runner():
    """Start the forkserver now, so that the first run does not wait for it."""
    from multiprocessing import forkserver

    _forkserver()
    forkserver.ensure_running()


def run_script(script, args=(), cwd=None, env=None, timeout=600):
    """Run `python script ARGS` in `cwd`; `env` adds environment variables."""
    cwd = Path(cwd or tempfile.mkdtemp())
    logs = Path(tempfile.mkdtemp(prefix="run-"))
    out, err = logs / "stdout", logs / "stderr"
    process = _forkserver().Process(
        target=_run_as_main,
        args=(ROOT / script, list(args), cwd, dict(env or {}), out, err),
    )
    process.start()
    process.join(timeout)
    if process.exitcode is None:
        process.kill()
        process.join()
        raise TimeoutError(f"{script} ran for more than {timeout} s")
    return Run(process.exitcode, out.read_text(), err.read_text())


@contextlib.contextmanager
def restored_process_state():
    """Put back, on the way out, four things that code run in the test process (an
    inline block) can change, so that none reaches the next test on this worker:
    the environment variables (DeepSpeed's block sets LOCAL_RANK); the names in
    torch.nn.functional (DeepSpeed's ZeRO-3 puts its own function in place of
    torch.nn.functional.linear for the rest of the process; names added are
    removed); torch's default dtype; and grad mode. Not put back: TorchScript's
    cache of compiled classes (an nn.Linear that failed to compile while DeepSpeed's
    function was in place fails again)."""
    import torch
    import torch.nn.functional

    saved_environ = dict(os.environ)
    saved_functional = dict(vars(torch.nn.functional))
    saved_dtype, saved_grad = torch.get_default_dtype(), torch.is_grad_enabled()
    try:
        yield
    finally:
        torch.set_default_dtype(saved_dtype)
        torch.set_grad_enabled(saved_grad)
        os.environ.clear()
        os.environ.update(saved_environ)
        functional = vars(torch.nn.functional)
        for name in set(functional) - set(saved_functional):
            delattr(torch.nn.functional, name)
        for name, value in saved_functional.items():
            if functional.get(name) is not value:
                setattr(torch.nn.functional, name, value)
