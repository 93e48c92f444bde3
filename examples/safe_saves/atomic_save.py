"""Save a checkpoint so that a crash mid-save leaves the previous one intact."""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


# --8<-- [start:atomic_save]
try:
    import fcntl  # Linux and macOS
except ImportError:  # Windows
    fcntl = None


def sync_to_disk(fd):
    """os.fsync; on macOS F_FULLFSYNC, which also empties the drive's cache."""
    if hasattr(fcntl, "F_FULLFSYNC"):  # macOS only
        try:
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
            return
        except OSError:  # a file system without it: fall back to fsync
            pass
    os.fsync(fd)


def atomic_save(obj, path):
    """torch.save to a temporary file, then rename it onto path in one step."""
    path = Path(path)
    tmp_path = path.with_name(path.name + ".tmp")  # same directory, same disk
    with open(tmp_path, "wb") as f:
        torch.save(obj, f)
        f.flush()
        sync_to_disk(f.fileno())  # the bytes are on the disk, not only in memory
    os.replace(tmp_path, path)  # atomic on a local disk: the old file or the new
    if os.name == "posix":  # make the rename itself survive a power cut
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            sync_to_disk(dir_fd)
        finally:
            os.close(dir_fd)


# --8<-- [end:atomic_save]


def save_big_checkpoint(path, how):
    """Run in a child process: save about 200 MB over path, atomically or not."""
    big = {f"layer{i}.weight": torch.ones(1024, 1024) for i in range(50)}  # 4 MB each
    if how == "atomic":
        atomic_save(big, path)
    else:
        torch.save(big, path)


def kill_mid_save(path, how, watched_file):
    """Start a child that saves over path; SIGKILL it once watched_file has grown."""
    # A new Python process runs this file's save_big_checkpoint(path, how).
    child_code = (
        "import runpy, sys\n"
        "runpy.run_path(sys.argv[1])['save_big_checkpoint'](sys.argv[2], sys.argv[3])"
    )
    command = [sys.executable, "-c", child_code, __file__, str(path), how]
    child = subprocess.Popen(command)
    while not (watched_file.exists() and watched_file.stat().st_size > 1_000_000):
        assert child.poll() is None, "the save ended before it could be killed"
        time.sleep(0.001)
    child.kill()  # SIGKILL: like a crash or a killed job, nothing gets cleaned up
    child.wait()
    assert child.returncode == -signal.SIGKILL


def check_sync_to_disk(obj, path):
    """What atomic_save calls to sync: checked with stand-ins that record calls."""
    global fcntl
    real_fcntl, real_fsync = fcntl, os.fsync
    synced = []
    file_and_dir = 2 if os.name == "posix" else 1  # no directory sync on Windows
    os.fsync = lambda fd: synced.append("fsync")
    try:
        if not hasattr(real_fcntl, "F_FULLFSYNC"):  # Linux, Windows: os.fsync
            atomic_save(obj, path)
            assert synced == ["fsync"] * file_and_dir, synced
        # macOS: F_FULLFSYNC (a stand-in fcntl here, recording the command)
        synced.clear()
        fcntl = SimpleNamespace(
            F_FULLFSYNC=51, fcntl=lambda fd, cmd: synced.append(cmd)
        )
        atomic_save(obj, path)
        assert synced == [51] * file_and_dir, synced

        # macOS, on a file system that refuses F_FULLFSYNC: os.fsync instead
        def refuse(fd, cmd):
            raise OSError(45, "Operation not supported")

        synced.clear()
        fcntl = SimpleNamespace(F_FULLFSYNC=51, fcntl=refuse)
        atomic_save(obj, path)
        assert synced == ["fsync"] * file_and_dir, synced
    finally:
        fcntl, os.fsync = real_fcntl, real_fsync
    loaded = torch.load(path, weights_only=True)
    assert all(torch.equal(loaded[name], obj[name]) for name in obj)


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    good = model.state_dict()
    path = out_dir / "checkpoint.pt"
    tmp_path = out_dir / "checkpoint.pt.tmp"

    # --8<-- [start:atomic_kill]
    atomic_save(good, path)  # a good checkpoint
    kill_mid_save(path, "atomic", watched_file=tmp_path)  # atomic_save(big, path)
    loaded = torch.load(path, weights_only=True)
    same = all(torch.equal(loaded[name], good[name]) for name in good)
    print(f"after the kill, {path.name} loads and holds the previous weights: {same}")
    partial = tmp_path.stat().st_size < 200 * 2**20  # a whole save is over 200 MiB
    print(f"{tmp_path.name} left behind, half-written: {partial}")
    # --8<-- [end:atomic_kill]
    assert same and partial
    tmp_path.unlink()  # what the crash left: delete it (the next save replaces it)

    # --8<-- [start:plain_kill]
    torch.save(good, path)  # a good checkpoint
    kill_mid_save(path, "plain", watched_file=path)  # torch.save(big, path)
    error = None
    try:
        torch.load(path, weights_only=True)
    except RuntimeError as err:
        error = err
    print(f"{type(error).__name__}: {error}")
    # --8<-- [end:plain_kill]
    assert "failed finding central directory" in str(error)
    path.unlink()

    check_sync_to_disk(good, path)
    path.unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
