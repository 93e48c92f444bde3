"""MyModel computed by hand: two fully connected layers, 61 numbers."""

import argparse

import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None):
    # Writes nothing: out_dir is unused.
    model = MyModel().to(device)

    # --8<-- [start:inspect]
    print(model)
    for name, parameter in model.named_parameters():
        print(f"{name:<11} {str(tuple(parameter.shape)):<8} {parameter.numel():>3}")
    total = sum(p.numel() for p in model.parameters())
    print(f"{'total':<20} {total:>3}")
    # --8<-- [end:inspect]
    assert total == 61 == (10 * 5 + 5) + (5 * 1 + 1)

    # --8<-- [start:by_hand]
    x = torch.randn(3, 10, device=device)  # a batch of 3 inputs, 10 features each
    hidden = x @ model.fc1.weight.T + model.fc1.bias  # shape (3, 5)
    output = hidden @ model.fc2.weight.T + model.fc2.bias  # shape (3, 1)
    print("by hand, same as model(x):", torch.allclose(output, model(x), atol=1e-6))
    # --8<-- [end:by_hand]
    assert hidden.shape == (3, 5) and output.shape == (3, 1)
    assert torch.allclose(output, model(x), atol=1e-6)

    # --8<-- [start:collapse]
    one_layer = nn.Linear(10, 1).to(device)
    with torch.no_grad():
        one_layer.weight.copy_(model.fc2.weight @ model.fc1.weight)  # (1, 5) @ (5, 10)
        one_layer.bias.copy_(model.fc2.weight @ model.fc1.bias + model.fc2.bias)
    same = torch.allclose(one_layer(x), model(x), atol=1e-6)
    print("one layer, same as model(x):", same)
    # --8<-- [end:collapse]
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
