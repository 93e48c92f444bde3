"""Two models and two optimizers in one checkpoint: a tiny GAN, resumed exactly.

The generator learns to turn noise into samples of a 2-D Gaussian; the discriminator
learns to tell its samples from real ones. Both models, both optimizers and the
random state (the noise and the real samples are drawn from torch's generator) go
into one dict. The script trains 4 epochs without a break, then 2 epochs, a
checkpoint, and 2 more epochs after rebuilding everything from scratch: both models
end the same, bit for bit.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn

EPOCHS, STEPS_PER_EPOCH, NOISE = 4, 10, 4


# --8<-- [start:build]
def build(device):
    torch.manual_seed(0)  # what the script does first, every time it starts
    generator = nn.Sequential(nn.Linear(NOISE, 16), nn.ReLU(), nn.Linear(16, 2))
    discriminator = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    generator, discriminator = generator.to(device), discriminator.to(device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    return generator, discriminator, opt_g, opt_d


# --8<-- [end:build]


def train_one_epoch(generator, discriminator, opt_g, opt_d, device):
    bce = nn.functional.binary_cross_entropy_with_logits
    ones = torch.ones(32, 1, device=device)
    zeros = torch.zeros(32, 1, device=device)
    for _ in range(STEPS_PER_EPOCH):
        real = torch.randn(32, 2, device=device) * 0.5 + 2.0  # random draws ...
        fake = generator(torch.randn(32, NOISE, device=device))  # ... on `device`
        # The discriminator: real samples are 1, generated ones 0.
        opt_d.zero_grad()
        d_loss = bce(discriminator(real), ones)
        d_loss = d_loss + bce(discriminator(fake.detach()), zeros)
        d_loss.backward()
        opt_d.step()
        # The generator: make the discriminator say 1 to generated samples.
        opt_g.zero_grad()
        bce(discriminator(fake), ones).backward()
        opt_g.step()


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)

    # The reference: 4 epochs without a break.
    generator, discriminator, opt_g, opt_d = build(device)
    for _ in range(EPOCHS):
        train_one_epoch(generator, discriminator, opt_g, opt_d, device)
    uninterrupted_g = generator.state_dict()
    uninterrupted_d = discriminator.state_dict()

    # 2 epochs, then a checkpoint.
    generator, discriminator, opt_g, opt_d = build(device)
    for _ in range(2):
        train_one_epoch(generator, discriminator, opt_g, opt_d, device)
    # --8<-- [start:save]
    checkpoint = {
        "epoch": 2,
        "generator": generator.state_dict(),
        "discriminator": discriminator.state_dict(),
        "opt_g": opt_g.state_dict(),
        "opt_d": opt_d.state_dict(),
        "rng": {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all(),  # [] without a GPU
        },
    }
    torch.save(checkpoint, out_dir / "gan.pt")
    # --8<-- [end:save]
    print("checkpoint keys:", list(checkpoint))
    del generator, discriminator, opt_g, opt_d

    # The resume: build everything as for a fresh start, load each state, then the
    # random states, last.
    # --8<-- [start:resume]
    checkpoint = torch.load(out_dir / "gan.pt", map_location="cpu", weights_only=True)
    generator, discriminator, opt_g, opt_d = build(device)
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    opt_g.load_state_dict(checkpoint["opt_g"])  # each optimizer its own state
    opt_d.load_state_dict(checkpoint["opt_d"])
    torch.set_rng_state(checkpoint["rng"]["torch"])
    torch.cuda.set_rng_state_all(checkpoint["rng"]["cuda"])  # nothing without a GPU
    for _ in range(checkpoint["epoch"], EPOCHS):
        train_one_epoch(generator, discriminator, opt_g, opt_d, device)
    # --8<-- [end:resume]
    same_g = same_weights(generator.state_dict(), uninterrupted_g)
    same_d = same_weights(discriminator.state_dict(), uninterrupted_d)
    print(f"resumed == uninterrupted: generator {same_g}, discriminator {same_d}")
    assert same_g and same_d

    # Without the random state, the resumed run draws other noise and other real
    # samples than the uninterrupted one did: other weights.
    checkpoint = torch.load(out_dir / "gan.pt", map_location="cpu", weights_only=True)
    generator, discriminator, opt_g, opt_d = build(device)
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    opt_g.load_state_dict(checkpoint["opt_g"])
    opt_d.load_state_dict(checkpoint["opt_d"])
    for _ in range(checkpoint["epoch"], EPOCHS):
        train_one_epoch(generator, discriminator, opt_g, opt_d, device)
    same_g = same_weights(generator.state_dict(), uninterrupted_g)
    print(f"random state not restored, generator == uninterrupted: {same_g}")
    assert not same_g


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
