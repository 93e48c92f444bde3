"""One safetensors file from a DeepSpeed ZeRO checkpoint, loaded without DeepSpeed."""

import argparse
import os
import tempfile
from pathlib import Path

import deepspeed
import torch
import torch.distributed as dist
from deepspeed.accelerator import get_accelerator
from deepspeed.utils.zero_to_fp32 import convert_zero_checkpoint_to_fp32_state_dict
from safetensors.torch import load_file
from torch import nn


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    checkpoint_dir = out_dir / "checkpoint"  # what engine.save_checkpoint wrote
    inputs, expected = train_and_save(checkpoint_dir)  # below

    # Every rank's part, joined into one fp32 file. No process group, no GPU.
    convert_zero_checkpoint_to_fp32_state_dict(
        checkpoint_dir, out_dir / "model", safe_serialization=True
    )  # writes model/model.safetensors

    plain = nn.Linear(10, 5)  # anywhere, with only torch and safetensors
    plain.load_state_dict(load_file(out_dir / "model" / "model.safetensors"))
    same = torch.allclose(plain(inputs), expected, rtol=0, atol=1e-6)
    print("plain model, same outputs as the engine:", same)
    assert same


def train_and_save(checkpoint_dir):
    """Train nn.Linear with ZeRO-3 for 2 steps in a group of 1 process, and save."""
    # torchrun or the deepspeed launcher would start the process group and set
    # LOCAL_RANK; this script starts both itself, so that it runs as it is.
    os.environ["LOCAL_RANK"] = "0"
    accelerator = get_accelerator()  # DeepSpeed's pick: a GPU if it sees one
    if accelerator.device_name() == "cpu":
        # On the CPU, DeepSpeed's process group compiles a C++ extension the first
        # time (deepspeed_shm_comm: a minute, and it needs a C++ compiler) that only
        # its inference all-reduce uses. Marking it not compatible skips the build.
        # __compatible_ops__ is DeepSpeed's internal table, not a public setting.
        deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    backend = accelerator.communication_backend_name()  # nccl on GPUs, gloo on a CPU
    dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    model = nn.Linear(10, 5)
    config = {
        "train_micro_batch_size_per_gpu": 8,
        "optimizer": {"type": "AdamW", "params": {"lr": 0.01, "torch_adam": True}},
        "zero_optimization": {"stage": 3},
    }
    engine, _, _, _ = deepspeed.initialize(
        model=model, model_parameters=model.parameters(), config=config
    )
    for _ in range(2):
        loss = engine(torch.randn(8, 10, device=engine.device)).pow(2).mean()
        engine.backward(loss)
        engine.step()
    engine.save_checkpoint(checkpoint_dir)  # every rank calls it
    inputs = torch.randn(4, 10, device=engine.device)
    with torch.no_grad():
        expected = engine(inputs)
    dist.destroy_process_group()
    return inputs.cpu(), expected.cpu()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--device",
        default="cpu",
        help="DeepSpeed takes a GPU when it sees one; DS_ACCELERATOR=cpu keeps the CPU",
    )
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
