"""Keep the best weights seen during training: a copy, not the live state_dict."""

import argparse
import copy
import tempfile
from pathlib import Path

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
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = MyModel().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    # Few noisy training samples: after a while the model learns their noise.
    true_weights = torch.randn(10, 1)
    inputs, val_inputs = torch.randn(16, 10), torch.randn(64, 10)
    targets = inputs @ true_weights + torch.randn(16, 1)
    val_targets = val_inputs @ true_weights
    inputs, targets = inputs.to(device), targets.to(device)
    val_inputs, val_targets = val_inputs.to(device), val_targets.to(device)

    # --8<-- [start:train]
    best_loss = float("inf")
    for epoch in range(1, 41):
        model.train()
        optimizer.zero_grad()
        nn.functional.mse_loss(model(inputs), targets).backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = nn.functional.mse_loss(model(val_inputs), val_targets).item()
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            wrong_best = model.state_dict()  # WRONG: the model's own tensors
            best = copy.deepcopy(model.state_dict())  # right: a copy, frozen now
            torch.save(model.state_dict(), out_dir / "best.pt")  # right: a file
    # --8<-- [end:train]
    print(f"best epoch: {best_epoch} of 40")
    assert best_epoch < 40  # training went on after the best epoch

    # The "best" kept by reference followed the training to its last step.
    same_as_last = all(
        torch.equal(tensor, model.state_dict()[name])
        for name, tensor in wrong_best.items()
    )
    print(f"wrong_best == last weights: {same_as_last}")
    assert same_as_last

    # The copy and the file hold the best weights, which differ from the last ones.
    from_file = torch.load(out_dir / "best.pt", weights_only=True)
    assert all(torch.equal(best[name], from_file[name]) for name in best)
    assert not torch.equal(best["fc1.weight"], model.fc1.weight)
    model.load_state_dict(best)  # back to the best weights
    model.eval()
    with torch.no_grad():
        val_loss = nn.functional.mse_loss(model(val_inputs), val_targets).item()
    print(f"val loss after loading best: {val_loss == best_loss}")
    assert val_loss == best_loss


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
