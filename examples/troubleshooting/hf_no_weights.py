"""Fix "Error no file named model.safetensors, or pytorch_model.bin": no weights.

from_pretrained looks in the folder for model.safetensors (or its sharded index),
then for pytorch_model.bin. Weights saved under any other name, here a state_dict
saved with torch.save as model.pt, are not found. Load that file into a model
built from the config, and save it with save_pretrained.
"""

import argparse
import tempfile
from pathlib import Path

import torch
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
    # ... a training loop of your own saved the config and a plain state_dict ...
    folder = out_dir / "my-gpt2"
    model.config.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "model.pt")

    try:
        GPT2LMHeadModel.from_pretrained(folder)
    except OSError as err:
        error = err
    else:
        raise AssertionError("from_pretrained found weights")
    # The message names the folder by its full path: print its name instead.
    print(f"{type(error).__name__}: {error}".replace(str(folder), folder.name))
    assert "Error no file named model.safetensors, or pytorch_model.bin" in str(error)
    print(sorted(path.name for path in folder.iterdir()))

    # --8<-- [start:fix]
    config = GPT2Config.from_pretrained(folder)  # reads config.json
    fixed = GPT2LMHeadModel(config)
    state_dict = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
    fixed.load_state_dict(state_dict)
    fixed.save_pretrained(folder)  # writes model.safetensors beside config.json

    loaded = GPT2LMHeadModel.from_pretrained(folder)
    # --8<-- [end:fix]
    print(sorted(path.name for path in folder.iterdir()))
    assert (folder / "model.safetensors").is_file()
    loaded = loaded.to(device)
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    with torch.no_grad():
        assert torch.equal(loaded(tokens).logits, model(tokens).logits)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
