"""Fix "environment variable RANK expected, but not set": started without torchrun.

dist.init_process_group() reads its rank, the number of processes and where to
meet the others from environment variables (RANK, WORLD_SIZE, MASTER_ADDR,
MASTER_PORT) that torchrun sets for each process it starts. `python train.py`
sets none of them.
"""

import argparse
import os
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


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    assert "RANK" not in os.environ, "run this script with python, not torchrun"

    try:
        dist.init_process_group("gloo")  # as in a script written for torchrun
    except ValueError as err:
        error = err
    else:
        raise AssertionError("init_process_group worked without RANK")
    print(f"{type(error).__name__}: {error}")
    assert "environment variable RANK expected, but not set" in str(error)
    assert not dist.is_initialized()

    # --8<-- [start:fix]
    # The fix: start the script with torchrun, e.g. torchrun --nproc_per_node=2 train.py
    # A script that should also run with plain `python` can check how it started:
    if "RANK" in os.environ:  # started by torchrun
        dist.init_process_group("gloo")  # "nccl" on GPUs
    else:  # started with python: a group of one process
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    # --8<-- [end:fix]
    try:
        print("rank", dist.get_rank(), "of", dist.get_world_size())
        model = MyModel().to(device)
        if dist.get_rank() == 0:
            torch.save(model.state_dict(), out_dir / "mymodel.pt")
        dist.barrier()
    finally:
        dist.destroy_process_group()
    assert (out_dir / "mymodel.pt").exists()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
