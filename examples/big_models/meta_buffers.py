"""A persistent=False buffer is not in the file: meta + assign=True leaves it on meta.

`load_state_dict(..., assign=True)` replaces the tensors that the state_dict
holds. A non-persistent buffer is not in it, so after building the model on the
meta device that buffer keeps its meta tensor, and the load still reports
`<All keys matched successfully>`. Compute such buffers again after the load.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn


# --8<-- [start:model]
class MyModel(nn.Module):
    """A linear layer after a rotary position encoding, as in many language models."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        # Computed from constants, not learned: not saved (persistent=False).
        self.register_buffer("inv_freq", torch.empty(4), persistent=False)
        self.init_buffers()

    def init_buffers(self):
        """Compute the non-persistent buffers, on the device of the weights."""
        steps = torch.arange(0, 8, 2, device=self.fc.weight.device) / 8
        self.inv_freq = 1.0 / 10000**steps

    def forward(self, x):  # x: (batch, positions, 8)
        positions = torch.arange(x.shape[1], device=x.device, dtype=x.dtype)
        angles = positions[:, None] @ self.inv_freq[None, :]  # (positions, 4)
        cos, sin = angles.cos(), angles.sin()
        x1, x2 = x[..., :4], x[..., 4:]
        return self.fc(torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1))


# --8<-- [end:model]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mymodel.pt"
    trained = MyModel().to(device)
    # ... train the model ...
    torch.save(trained.state_dict(), path)
    assert list(trained.state_dict()) == ["fc.weight", "fc.bias"]  # no inv_freq

    # --8<-- [start:trap]
    with torch.device("meta"):
        model = MyModel()
    state_dict = torch.load(path, map_location=device, weights_only=True)
    print(model.load_state_dict(state_dict, assign=True))
    tensors = [*model.named_parameters(), *model.named_buffers()]
    print("still on meta:", [name for name, t in tensors if t.is_meta])
    # --8<-- [end:trap]
    assert model.inv_freq.is_meta and not model.fc.weight.is_meta

    inputs = torch.randn(2, 6, 8, device=device)
    # --8<-- [start:forward]
    try:
        with torch.no_grad():
            outputs = model(inputs)
    except RuntimeError as err:
        same = None
        print(f"{type(err).__name__}: {err}")
    else:
        with torch.no_grad():
            same = torch.allclose(outputs, trained(inputs))
        print("no error; same outputs as the saved model:", same)
    # --8<-- [end:forward]
    # torch 2.13, 2.14 and 2.15 on the CPU: `cpu_tensor @ meta_tensor` raises nothing
    # and returns uninitialised memory. Other devices may raise; never the right
    # numbers.
    assert same is not True
    if torch.device(device).type == "cpu":
        assert same is False

    # --8<-- [start:fix]
    with torch.device("meta"):
        model = MyModel()
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    model.init_buffers()  # not in the file: compute them again, on the weights' device
    # --8<-- [end:fix]
    tensors = [*model.named_parameters(), *model.named_buffers()]
    assert not any(t.is_meta for _, t in tensors)
    with torch.no_grad():
        same = torch.equal(model(inputs), trained(inputs))
    print("after init_buffers(), same outputs as the saved model:", same)
    assert same

    # --8<-- [start:to-empty]
    with torch.device("meta"):
        model = MyModel()
    model.to_empty(device=device)  # every tensor allocated, none initialised
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    model.init_buffers()  # inv_freq held whatever was in that memory
    # --8<-- [end:to-empty]
    with torch.no_grad():
        same = torch.equal(model(inputs), trained(inputs))
    print("to_empty(), load, init_buffers(): same outputs:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
