"""Fix "The size of tensor a (2) must match the size of tensor b (4)" at the first step.

With two models (a GAN's generator and discriminator), a resume can load one
optimizer's state into the other. `optimizer.load_state_dict` only checks that the
parameter groups hold as many parameters as the saved ones: it matches them by
position, not by name or shape, so the swap loads without an error here, and the
first step fails on the state's shapes. (With models of the same shapes, it would
not fail at all.) Keep one clearly named key per optimizer, and load each into its
own.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn


def build(device):
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    discriminator = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    generator, discriminator = generator.to(device), discriminator.to(device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
    return generator, discriminator, opt_g, opt_d


def generator_step(generator, discriminator, opt_g, device):
    opt_g.zero_grad()
    fake = generator(torch.randn(32, 4, device=device))
    discriminator(fake).mean().backward()
    opt_g.step()


def discriminator_step(generator, discriminator, opt_d, device):
    opt_d.zero_grad()
    fake = generator(torch.randn(32, 4, device=device)).detach()
    discriminator(fake).mean().backward()
    opt_d.step()


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    generator, discriminator, opt_g, opt_d = build(device)
    discriminator_step(generator, discriminator, opt_d, device)
    generator_step(generator, discriminator, opt_g, device)
    path = out_dir / "gan.pt"
    torch.save(
        {
            "generator": generator.state_dict(),
            "discriminator": discriminator.state_dict(),
            "opt_g": opt_g.state_dict(),
            "opt_d": opt_d.state_dict(),
        },
        path,
    )

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    generator, discriminator, opt_g, opt_d = build(device)
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    # --8<-- [start:swapped]
    opt_g.load_state_dict(checkpoint["opt_d"])  # WRONG: the discriminator's state
    opt_d.load_state_dict(checkpoint["opt_g"])  # no error: 4 parameters each
    # --8<-- [end:swapped]
    try:
        generator_step(generator, discriminator, opt_g, device)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("the step ran with the other optimizer's state")
    print(f"{type(error).__name__}: {error}")
    if torch.device(device).type == "cpu":  # a GPU's optimizer can word it otherwise
        assert "The size of tensor a (2) must match the size of tensor b (4)" in str(
            error
        )

    # --8<-- [start:fix]
    generator, discriminator, opt_g, opt_d = build(device)
    opt_g.load_state_dict(checkpoint["opt_g"])  # each optimizer its own state
    opt_d.load_state_dict(checkpoint["opt_d"])
    # --8<-- [end:fix]
    shapes = [tuple(s["exp_avg"].shape) for s in opt_g.state_dict()["state"].values()]
    print("the generator's optimizer state:", shapes)
    assert shapes == [tuple(p.shape) for p in generator.parameters()]
    generator_step(generator, discriminator, opt_g, device)  # no error


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
