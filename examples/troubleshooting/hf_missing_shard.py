"""Fix "No such file or directory: ...model-00002-of-00003.safetensors": a lost shard.

A sharded save_pretrained folder has an index, model.safetensors.index.json, that
names the shard file of every weight. A copy or a download that left out one shard
fails when that file is opened. Compare the index with the folder, and get the
missing shards.
"""

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()  # they go to stderr; keep the terminal quiet
    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    config = GPT2Config(**sizes, bos_token_id=0, eos_token_id=0)  # not 50256: > 100
    model = GPT2LMHeadModel(config).to(device).eval()
    original = out_dir / "original"
    model.save_pretrained(original, max_shard_size="50KB")  # three shards

    # A copy of the folder that lost its second shard on the way.
    folder = out_dir / "tiny-gpt2"
    shutil.copytree(original, folder)
    (folder / "model-00002-of-00003.safetensors").unlink()

    def short(err):  # the message names the full path: print it from out_dir
        return f"{type(err).__name__}: {err}".replace(f"{out_dir}{os.sep}", "")

    try:
        GPT2LMHeadModel.from_pretrained(folder)
    except FileNotFoundError as err:
        print(short(err))
        assert "model-00002-of-00003.safetensors" in str(err)
    else:
        raise AssertionError("from_pretrained loaded a folder without a shard")
    try:  # without transformers, reading the shards the index names
        load_file(folder / "model-00002-of-00003.safetensors")
    except FileNotFoundError as err:
        print(short(err))
    else:
        raise AssertionError("load_file read a missing file")

    # --8<-- [start:check]
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    missing = [shard for shard in shards if not (folder / shard).is_file()]
    print("missing shards:", missing)
    # --8<-- [end:check]
    assert missing == ["model-00002-of-00003.safetensors"]

    for shard in missing:  # download them again; here, copy them from the original
        shutil.copyfile(original / shard, folder / shard)
    loaded = GPT2LMHeadModel.from_pretrained(folder).to(device)
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    with torch.no_grad():
        assert torch.equal(loaded(tokens).logits, model(tokens).logits)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
