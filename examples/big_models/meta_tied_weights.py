"""Weights tied in __init__ come apart with meta + assign=True: tie them after the load.

`self.head.weight = self.embed.weight` makes one Parameter with two names. The
state_dict lists both names; `load_state_dict(..., assign=True)` puts a new
Parameter under each, so the model ends up with two parameters. `to_empty()`
unties them too. Call the method that ties them after the load.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_model
from torch import nn


# --8<-- [start:model]
class MyModel(nn.Module):
    """A tiny language model whose output layer shares the embedding's weight."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.head = nn.Linear(16, 100, bias=False)
        self.tie_weights()

    def tie_weights(self):
        self.head.weight = self.embed.weight  # one Parameter, two names

    def forward(self, tokens):
        return self.head(self.embed(tokens))


# --8<-- [end:model]


def adam_step(model, tokens):
    """One training step with a new Adam optimizer."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(tokens).square().mean().backward()
    optimizer.step()


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mymodel.pt"
    trained = MyModel().to(device)
    assert trained.head.weight is trained.embed.weight  # .to(device) keeps the tie
    # ... train the model ...
    torch.save(trained.state_dict(), path)
    assert list(trained.state_dict()) == ["embed.weight", "head.weight"]
    assert len(list(trained.parameters())) == 1
    assert path.stat().st_size < 1.5 * trained.embed.weight.nbytes  # written once
    tokens = torch.tensor([[1, 2, 3, 2]], device=device)

    # --8<-- [start:untied]
    with torch.device("meta"):
        model = MyModel()
    state_dict = torch.load(path, map_location=device, weights_only=True)
    print(model.load_state_dict(state_dict, assign=True))
    print("tied:", model.head.weight is model.embed.weight)
    print("parameters:", len(list(model.parameters())))
    # --8<-- [end:untied]
    assert model.head.weight is not model.embed.weight
    # torch.load kept the two names on one storage, so they still share memory...
    assert model.head.weight.data_ptr() == model.embed.weight.data_ptr()

    # --8<-- [start:train]
    reference = MyModel().to(device)  # tied, as in training
    reference.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    adam_step(reference, tokens)
    adam_step(model, tokens)
    same = torch.allclose(model.embed.weight, reference.embed.weight)
    print("after one Adam step, same weights as the tied model:", same)
    model.half()  # a conversion that copies: each name gets its own copy
    shared = model.head.weight.data_ptr() == model.embed.weight.data_ptr()
    print("after model.half(), they share memory:", shared)
    # --8<-- [end:train]
    assert not same  # two parameters: two gradients, two Adam updates, one memory
    assert reference.head.weight is reference.embed.weight  # a copying load keeps ties
    assert not shared

    # --8<-- [start:retie]
    with torch.device("meta"):
        model = MyModel()
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    model.tie_weights()  # after the load
    print("tied after tie_weights():", model.head.weight is model.embed.weight)
    # --8<-- [end:retie]
    assert model.head.weight is model.embed.weight
    assert len(list(model.parameters())) == 1
    reference = MyModel().to(device)
    reference.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    adam_step(reference, tokens)
    adam_step(model, tokens)
    same = torch.allclose(model.embed.weight, reference.embed.weight)
    print("after one Adam step, same weights as the tied model:", same)
    assert same

    # --8<-- [start:to-empty]
    with torch.device("meta"):
        model = MyModel()
    model.to_empty(device=device)
    print("tied after to_empty():", model.head.weight is model.embed.weight)
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    model.tie_weights()  # to_empty() untied them: a copying load does not tie them
    # --8<-- [end:to-empty]
    assert model.head.weight is model.embed.weight
    assert torch.equal(model.embed.weight, trained.embed.weight)

    # --8<-- [start:one-name]
    st_path = out_dir / "mymodel.safetensors"
    save_model(trained, st_path)  # keeps one name for the shared tensor
    state_dict = load_file(st_path, device=str(device))
    print("names in the file:", list(state_dict))
    with torch.device("meta"):
        model = MyModel()
    result = model.load_state_dict(state_dict, assign=True, strict=False)
    print("missing keys:", result.missing_keys)
    model.tie_weights()  # gives head.weight its value
    # --8<-- [end:one-name]
    assert result.missing_keys == ["head.weight"] and not result.unexpected_keys
    assert model.head.weight is model.embed.weight and not model.head.weight.is_meta
    with torch.no_grad():
        assert torch.equal(model(tokens), trained(tokens))

    with torch.device("meta"):
        model = MyModel()
    try:
        model.load_state_dict(state_dict, assign=True)  # strict=True
    except RuntimeError as err:
        message = str(err)
        print(f"{type(err).__name__}: {message}")
    assert 'Missing key(s) in state_dict: "head.weight"' in message


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
