"""Tied weights in safetensors: save_file refuses them, save_model stores them once."""

import argparse
import tempfile
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_model, save_file, save_model
from torch import nn


# A tiny language model whose output layer reuses the embedding's weight.
class TinyLanguageModel(nn.Module):
    def __init__(self, vocab_size=20, dim=8):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.decoder = nn.Linear(dim, vocab_size, bias=False)
        self.decoder.weight = self.embedding.weight  # tied: one tensor, two names

    def forward(self, tokens):
        return self.decoder(self.embedding(tokens))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = TinyLanguageModel().to(device)
    # ... train the model ...
    path = out_dir / "tiny_lm.safetensors"

    # --8<-- [start:save_file]
    try:
        save_file(model.state_dict(), path)
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
        assert "Some tensors share memory" in str(err)
        assert "use `save_model`" in str(err)
    else:
        raise AssertionError("save_file saved shared tensors")
    # --8<-- [end:save_file]

    # --8<-- [start:save_model]
    save_model(model, path)  # stores the shared tensor once

    loaded = TinyLanguageModel().to(device)
    load_model(loaded, path, device=device)  # strict: fails on missing keys
    # --8<-- [end:save_model]
    with safe_open(path, framework="pt") as f:
        stored = sorted(f.keys())
    print("stored:", stored)
    print("still tied:", loaded.decoder.weight is loaded.embedding.weight)
    assert stored == ["decoder.weight"]

    assert loaded.decoder.weight is loaded.embedding.weight
    assert torch.equal(loaded.embedding.weight, model.embedding.weight)
    tokens = torch.tensor([[1, 2, 3]], device=device)
    with torch.no_grad():
        assert torch.equal(loaded(tokens), model(tokens))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
