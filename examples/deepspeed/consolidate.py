"""Train with DeepSpeed ZeRO-3, save a checkpoint, turn it into one safetensors file."""

import argparse
import os
import tempfile
from pathlib import Path

import deepspeed
import torch
import torch.distributed as dist
from deepspeed.utils.zero_to_fp32 import convert_zero_checkpoint_to_fp32_state_dict
from safetensors.torch import load_file
from torch import nn


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    if (
        device == "cpu"
    ):  # skip DeepSpeed's shared-memory all-reduce: a minute to compile
        deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    # Under torchrun or the deepspeed launcher, deepspeed.initialize starts the
    # process group. Here, a group of 1 process, so that the script runs as it is.
    os.environ["LOCAL_RANK"] = "0"  # what torchrun sets
    backend = "gloo" if device == "cpu" else "nccl"
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
    engine.save_checkpoint(out_dir / "checkpoint")  # on every rank
    inputs = torch.randn(4, 10, device=engine.device)
    expected = engine(inputs).detach().cpu()
    dist.destroy_process_group()

    # The shards of every rank, as one fp32 file; no process group needed.
    convert_zero_checkpoint_to_fp32_state_dict(
        out_dir / "checkpoint", out_dir / "model", safe_serialization=True
    )
    plain = nn.Linear(10, 5)  # anywhere: only torch and safetensors
    plain.load_state_dict(load_file(out_dir / "model" / "model.safetensors"))
    same = torch.allclose(plain(inputs.cpu()), expected, rtol=0, atol=1e-6)
    print("plain model, same outputs as the engine:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
