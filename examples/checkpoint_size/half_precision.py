"""Weights saved in float16 or bfloat16 take half the space of float32.

Converting a state_dict's floating-point tensors to 16 bits halves the file. It
rounds every weight: float16 keeps about 3 significant digits (11 bits), and
its largest number is 65504: it rounds values between it and 65520 to 65504 and turns
65520 and more into inf; bfloat16 keeps float32's range but about 2 to 3 digits
(8 bits). Loading such a file into a float32 model converts the values back to
float32 (`load_state_dict` copies and casts), but the rounding stays.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1000, 500)
        self.norm = nn.BatchNorm1d(500)  # its num_batches_tracked is an int64
        self.fc2 = nn.Linear(500, 1000)

    def forward(self, x):
        return self.fc2(torch.relu(self.norm(self.fc1(x))))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    # ... train the model ...
    model.eval()
    torch.save(model.state_dict(), out_dir / "float32.pt")

    # --8<-- [start:half]
    state_dict = model.state_dict()
    for name, dtype in [("float16", torch.float16), ("bfloat16", torch.bfloat16)]:
        small = {
            key: t.to(dtype) if t.is_floating_point() else t  # keep integer counters
            for key, t in state_dict.items()
        }
        torch.save(small, out_dir / f"{name}.pt")
    # --8<-- [end:half]
    size = {
        name: (out_dir / f"{name}.pt").stat().st_size
        for name in ("float32", "float16", "bfloat16")
    }
    for name in ("float16", "bfloat16"):
        ratio = size[name] / size["float32"]
        print(f"{name}.pt: {ratio:.2f}x the size of float32.pt")
        assert abs(ratio - 0.5) < 0.005  # plus the same ~2 kB of names and headers
    assert model.fc1.weight.dtype == torch.float32  # the model itself is unchanged
    # float16's largest number is 65504. Rounding to nearest sends values below
    # 65520 (halfway to the next step, 65536) down to it, and 65520 on to inf.
    assert torch.finfo(torch.float16).max == 65504
    assert torch.tensor([65504.0, 65519.0, 65519.99]).half().tolist() == [65504.0] * 3
    assert torch.tensor([65520.0, 70000.0]).half().isinf().all()
    assert torch.tensor(-65520.0).half().item() == float("-inf")

    # --8<-- [start:load]
    new_model = MyModel().to(device)  # float32
    half = torch.load(out_dir / "float16.pt", map_location=device, weights_only=True)
    new_model.load_state_dict(half)  # copies each value into float32
    new_model.eval()
    print("dtype after loading:", new_model.fc1.weight.dtype)
    # --8<-- [end:load]
    assert new_model.fc1.weight.dtype == torch.float32
    assert new_model.norm.num_batches_tracked.dtype == torch.int64
    for name, t in new_model.state_dict().items():
        original = state_dict[name]
        if not original.is_floating_point():
            assert torch.equal(t, original)
            continue
        assert torch.equal(t, original.half().float())  # rounded, then converted back
        # float16 rounds to 11 significant bits (relative error at most 2**-11);
        # values under 2**-14 are subnormal, with an absolute error at most 2**-25.
        assert torch.allclose(t, original, rtol=2**-11, atol=2**-25)

    bf16 = torch.load(out_dir / "bfloat16.pt", map_location=device, weights_only=True)
    for name, t in bf16.items():
        if t.is_floating_point():
            assert torch.allclose(t.float(), state_dict[name], rtol=2**-8, atol=0)

    inputs = torch.randn(8, 1000, device=device)
    with torch.no_grad():
        expected, outputs = model(inputs), new_model(inputs)
    print("same outputs as the float32 model:", torch.equal(outputs, expected))
    assert not torch.equal(outputs, expected)
    assert torch.allclose(outputs, expected, atol=2e-3)  # measured: 3e-4 at most


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
