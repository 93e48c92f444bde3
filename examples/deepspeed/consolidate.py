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


def main(device="cpu", out_dir=None):  # DeepSpeed picks it: a GPU if it sees one
    out_dir = Path(out_dir or tempfile.mkdtemp())
    inputs, expected = train_and_save(out_dir / "checkpoint")  # below
    convert_zero_checkpoint_to_fp32_state_dict(  # no process group, no GPU needed
        out_dir / "checkpoint", out_dir / "model", safe_serialization=True
    )  # every rank's part, as one fp32 file: model/model.safetensors
    plain = nn.Linear(10, 5)  # anywhere, with only torch and safetensors
    plain.load_state_dict(load_file(out_dir / "model" / "model.safetensors"))
    same = torch.allclose(plain(inputs), expected, rtol=0, atol=1e-6)
    print("plain model, same outputs as the engine:", same)
    assert same


def train_and_save(checkpoint_dir):
    """ZeRO-3, 2 steps, 1 process: it sets up what torchrun would."""
    os.environ["LOCAL_RANK"] = "0"
    if get_accelerator().device_name() == "cpu":  # skip a C++ build: see the page
        deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False  # internal
    backend = get_accelerator().communication_backend_name()  # nccl, gloo or ccl
    dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    model = nn.Linear(10, 5)
    config = {
        "train_micro_batch_size_per_gpu": 8,
        "optimizer": {"type": "AdamW", "params": {"lr": 0.01, "torch_adam": True}},
        "zero_optimization": {"stage": 3},
    }
    engine, *_ = deepspeed.initialize(model=model, config=config)  # all its weights
    for _ in range(2):
        engine.backward(engine(torch.randn(8, 10, device=engine.device)).pow(2).mean())
        engine.step()
    engine.save_checkpoint(checkpoint_dir)  # every rank calls it
    inputs = torch.randn(4, 10, device=engine.device)
    expected = engine(inputs).detach().cpu()
    dist.destroy_process_group()
    return inputs.cpu(), expected


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="DeepSpeed picks it itself")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
