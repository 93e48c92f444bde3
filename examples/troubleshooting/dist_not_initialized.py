"""Fix "Default process group has not been initialized": no init_process_group.

dist.get_rank(), dist.barrier(), DistributedDataParallel and the other collectives
need the process group that dist.init_process_group() creates. Code written for a
torchrun job raises this error when it runs in a plain `python` process (an
evaluation script, a notebook, a test) that never created one.
"""

import argparse
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def save_on_rank0(model, path):  # written for a torchrun job
    if dist.get_rank() == 0:
        torch.save(model.state_dict(), path)
    dist.barrier()


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mymodel.pt"
    model = MyModel().to(device)
    assert not dist.is_initialized()

    try:
        save_on_rank0(model, path)
    except ValueError as err:
        error = err
    else:
        raise AssertionError("dist.get_rank() worked without a process group")
    print(f"{type(error).__name__}: {error}")
    assert "Default process group has not been initialized" in str(error)
    assert not path.exists()

    # --8<-- [start:fix]
    # Fix 1: code that also runs without torchrun asks before it uses the group.
    rank = dist.get_rank() if dist.is_initialized() else 0
    if rank == 0:
        torch.save(model.state_dict(), path)

    # Fix 2: code that needs the collectives creates the group first. torchrun
    # gives it what it needs; in a plain process, make a group of one process.
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        save_on_rank0(model, path)
    finally:
        dist.destroy_process_group()
    # --8<-- [end:fix]
    assert not dist.is_initialized()
    state_dict = torch.load(path, map_location=device, weights_only=True)
    assert all(torch.equal(state_dict[k], v) for k, v in model.state_dict().items())
    print(
        "saved with a group of one process:", sorted(p.name for p in out_dir.iterdir())
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
