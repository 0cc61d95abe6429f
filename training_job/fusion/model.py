"""The triplet fusion network and its losses (torch).

Each modality is projected into the fused space by its own small MLP; the projections are summed
under presence masks, refined by a residual MLP and L2-normalised. A row with neither modality comes
out as zeros, as fusion v0 does. The forward signature is the fusion graph contract the runtime
loads: (text, image, has_text, has_image) → fused.

The network starts as fusion v0: each modality's projection has a linear skip path, and every MLP's
last layer starts at zero. In v0's own space (``V0_DIM`` = 1664, the default) the skip paths are
v0's blocks exactly — text scaled 2 into the first 384 dimensions, image scaled 1 into the rest —
so the untrained network *is* v0 and training can only move it from there. A smaller space starts
from v0 seen through a scaled Gaussian projection (Johnson–Lindenstrauss keeps cosines roughly;
at 256 dimensions the distortion, ~0.06, is larger than the spread of e5's cosines, so that start
ranks worse than v0). Either way a few minutes of training refine a model that already knows what
the base encoders know, instead of a random one that must relearn it.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

TEXT_DIM = 384
IMAGE_DIM = 1280
EPS = 1e-12


# Fusion v0's weights and space: its ranking is the starting point.
V0_TEXT_WEIGHT, V0_IMAGE_WEIGHT = 2.0, 1.0
V0_DIM = TEXT_DIM + IMAGE_DIM


def _mlp(source: int, hidden: int, dim: int) -> nn.Sequential:
    """Linear → GELU → Linear, the last layer zero so that the MLP starts as a no-op."""
    mlp = nn.Sequential(nn.Linear(source, hidden), nn.GELU(), nn.Linear(hidden, dim))
    nn.init.zeros_(mlp[2].weight)
    nn.init.zeros_(mlp[2].bias)
    return mlp


class Projection(nn.Module):
    """One modality into the fused space: a linear skip (a v0-like random projection at start) plus
    an MLP that learns what the shop's interactions add."""

    def __init__(self, source: int, hidden: int, dim: int, weight: float, v0_offset: int) -> None:
        super().__init__()
        self.skip = nn.Linear(source, dim, bias=False)
        if dim == V0_DIM:
            # v0's block: this modality's coordinates at its offset, scaled by its weight.
            nn.init.zeros_(self.skip.weight)
            with torch.no_grad():
                self.skip.weight[v0_offset:v0_offset + source] = weight * torch.eye(source)
        else:
            nn.init.normal_(self.skip.weight, std=weight / dim ** 0.5)
        self.mlp = _mlp(source, hidden, dim)

    def forward(self, vector: torch.Tensor) -> torch.Tensor:
        return self.skip(vector) + self.mlp(vector)


class TripletFusion(nn.Module):
    def __init__(self, dim: int = V0_DIM, hidden: int = 512) -> None:
        super().__init__()
        self.text = Projection(TEXT_DIM, hidden, dim, V0_TEXT_WEIGHT, v0_offset=0)
        self.image = Projection(IMAGE_DIM, hidden, dim, V0_IMAGE_WEIGHT, v0_offset=TEXT_DIM)
        self.residual = _mlp(dim, hidden, dim)

    def forward(self, text: torch.Tensor, image: torch.Tensor, has_text: torch.Tensor,
                has_image: torch.Tensor) -> torch.Tensor:
        text_part = self.text(F.normalize(text, dim=-1, eps=EPS) * has_text) * has_text
        image_part = self.image(F.normalize(image, dim=-1, eps=EPS) * has_image) * has_image
        summed = text_part + image_part
        present = torch.clamp(has_text + has_image, max=1.0)
        return F.normalize((summed + self.residual(summed)) * present, dim=-1, eps=EPS)


def modality_dropout(has_text: torch.Tensor, has_image: torch.Tensor, p: float,
                     generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop text or image of a row with both, each with probability p/2 — never both — so the
    network learns to place one-modality products and queries where their full view lies."""
    both = (has_text * has_image).squeeze(-1) > 0
    draw = torch.rand(has_text.shape[0], generator=generator, device=has_text.device)
    drop_text = both & (draw < p / 2)
    drop_image = both & (draw >= p / 2) & (draw < p)
    return (has_text * (~drop_text).unsqueeze(-1).float(), has_image * (~drop_image).unsqueeze(-1).float())


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                 margin: float) -> torch.Tensor:
    """Margin loss on cosine distance (the vectors are unit length, so distance = 1 − dot)."""
    positive_distance = 1 - (anchor * positive).sum(-1)
    negative_distance = 1 - (anchor * negative).sum(-1)
    return F.relu(positive_distance - negative_distance + margin).mean()


def alignment_loss(model: TripletFusion, text: torch.Tensor, image: torch.Tensor,
                   temperature: float) -> torch.Tensor:
    """InfoNCE across the batch: a product's text-only view and photo-only view must each pick its
    own full view out of the batch, and each other — text search and photo search share the space.

    Only rows with both modalities take part (the caller passes those).
    """
    ones = torch.ones(text.shape[0], 1, device=text.device)
    zeros = torch.zeros_like(ones)
    full = model(text, image, ones, ones)
    text_only = model(text, image, ones, zeros)
    image_only = model(text, image, zeros, ones)
    targets = torch.arange(text.shape[0], device=text.device)
    losses = [F.cross_entropy(a @ b.T / temperature, targets)
              for a, b in ((text_only, full), (image_only, full), (text_only, image_only))]
    return sum(losses) / len(losses)
