"""Hugging Face Transformers: save_pretrained writes a folder, from_pretrained reads it.

A tiny GPT-2 built from a config, so that nothing comes from the Hub.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()  # they go to stderr; keep the terminal quiet
    # Record every attempt to reach a network address: there must be none.
    connections = []

    def record_connections(event, args):
        if event in ("socket.connect", "socket.getaddrinfo"):
            connections.append(args)

    sys.addaudithook(record_connections)

    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    config = GPT2Config(**sizes, bos_token_id=0, eos_token_id=0)  # not 50256: > 100
    model = GPT2LMHeadModel(config).to(device).eval()
    # ... train or fine-tune the model ...

    # --8<-- [start:save]
    folder = out_dir / "tiny-gpt2"
    model.save_pretrained(folder)
    print(sorted(path.name for path in folder.iterdir()))
    # --8<-- [end:save]
    saved_config = json.loads((folder / "config.json").read_text())
    print({key: saved_config[key] for key in ("architectures", "model_type", "dtype")})
    print("transformers_version:", saved_config["transformers_version"])

    # --8<-- [start:load]
    loaded = GPT2LMHeadModel.from_pretrained(folder)  # on the CPU, in eval mode
    print("built on:", loaded.device, "| training:", loaded.training)
    loaded = loaded.to(device)
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    with torch.no_grad():
        same = torch.equal(loaded(tokens).logits, model(tokens).logits)
    print("same logits:", same)
    # --8<-- [end:load]

    # --8<-- [start:auto]
    auto = AutoModelForCausalLM.from_pretrained(folder)  # class from "model_type"
    print(type(auto).__name__)
    # --8<-- [end:auto]
    assert type(auto) is GPT2LMHeadModel
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "generation_config.json",
        "model.safetensors",
    ]
    assert saved_config["architectures"] == ["GPT2LMHeadModel"]
    assert saved_config["n_embd"] == 32 and saved_config["tie_word_embeddings"]
    assert loaded.device == model.device
    assert not loaded.training
    assert same

    # --8<-- [start:tied]
    print("tied in the model:", model.lm_head.weight is model.transformer.wte.weight)
    with safe_open(folder / "model.safetensors", framework="pt") as f:
        stored = set(f.keys())
    print("names in the model:", len(model.state_dict()), "| in the file:", len(stored))
    print("lm_head.weight in the file:", "lm_head.weight" in stored)
    print("tied after loading:", loaded.lm_head.weight is loaded.transformer.wte.weight)
    # --8<-- [end:tied]
    assert set(model.state_dict()) - stored == {"lm_head.weight"}
    assert loaded.lm_head.weight is loaded.transformer.wte.weight

    # --8<-- [start:safe_serialization]
    old_style = out_dir / "old-style"
    model.save_pretrained(old_style, safe_serialization=False)  # ignored: no error
    print(sorted(path.name for path in old_style.iterdir()))
    # --8<-- [end:safe_serialization]
    assert not (old_style / "pytorch_model.bin").exists()
    assert (old_style / "model.safetensors").exists()
    assert connections == [], connections


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
