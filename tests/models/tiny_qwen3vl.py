"""A tiny random-weight Qwen3-VL pair written with the gguf library: the text model (architecture ``qwen3vl``) and
its mmproj (projector ``qwen3vl_merger``), with the tensor names and shapes llama.cpp's converter writes for
Qwen3-VL (convert_hf_to_gguf.py Qwen3VLVisionModel; tools/mtmd/models/qwen3vl.cpp reads them): two summed
patch convolutions, a fused QKV per block, a post-norm and the 2×2 merger ``mm.0`` / ``mm.2``; no DeepStack
layers. Weights are random: the answers are garbage, the code path (MTMDChatHandler, libmtmd's dynamic-size
preprocessing, M-RoPE) is the real one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .conftest import CHATML_LIST_TEMPLATE, _byte_tokens, _finish, _rand


def write_text(path: Path, hidden: int = 64, seed: int = 3) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|image_pad|>"]
    tokens = _byte_tokens() + specials
    heads, kv_heads, ffn = 4, 2, 2 * hidden
    head_dim = hidden // heads
    arch = "qwen3vl"
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name("tiny-random-qwen3vl")
    w.add_context_length(8192)
    w.add_embedding_length(hidden)
    w.add_block_count(2)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(5_000_000.0)
    w.add_rope_dimension_sections([2, 3, 3, 0])  # sums to head_dim / 2, as Qwen3-VL's [24, 20, 20, 0] for 128
    w.add_uint32(f"{arch}.n_deepstack_layers", 0)
    w.add_vocab_size(len(tokens))
    w.add_file_type(0)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types([1] * 256 + [3] * len(specials))
    w.add_token_merges(["a b"])
    w.add_bos_token_id(tokens.index("<|endoftext|>"))
    w.add_eos_token_id(tokens.index("<|im_end|>"))
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML_LIST_TEMPLATE)
    w.add_tensor("token_embd.weight", _rand(rng, len(tokens), hidden))
    w.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    for i in range(2):
        b = f"blk.{i}"
        w.add_tensor(f"{b}.attn_norm.weight", np.ones(hidden, np.float32))
        w.add_tensor(f"{b}.attn_q.weight", _rand(rng, heads * head_dim, hidden))
        w.add_tensor(f"{b}.attn_k.weight", _rand(rng, kv_heads * head_dim, hidden))
        w.add_tensor(f"{b}.attn_v.weight", _rand(rng, kv_heads * head_dim, hidden))
        w.add_tensor(f"{b}.attn_q_norm.weight", np.ones(head_dim, np.float32))
        w.add_tensor(f"{b}.attn_k_norm.weight", np.ones(head_dim, np.float32))
        w.add_tensor(f"{b}.attn_output.weight", _rand(rng, hidden, heads * head_dim))
        w.add_tensor(f"{b}.ffn_norm.weight", np.ones(hidden, np.float32))
        w.add_tensor(f"{b}.ffn_gate.weight", _rand(rng, ffn, hidden))
        w.add_tensor(f"{b}.ffn_up.weight", _rand(rng, ffn, hidden))
        w.add_tensor(f"{b}.ffn_down.weight", _rand(rng, hidden, ffn))
    _finish(w)
    return path


def write_mmproj(path: Path, text_hidden: int = 64, seed: int = 4) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    e, f, blocks, patch, image = 32, 64, 2, 16, 64  # 16 px patches merged 2×2, as Qwen3-VL
    w = gguf.GGUFWriter(str(path), "clip")
    w.add_string("clip.projector_type", "qwen3vl_merger")
    w.add_bool("clip.has_vision_encoder", True)
    w.add_bool("clip.use_gelu", True)
    for key, value in {"image_size": image, "patch_size": patch, "embedding_length": e, "feed_forward_length": f,
                       "block_count": blocks, "attention.head_count": 2, "projection_dim": text_hidden,
                       "spatial_merge_size": 2}.items():
        w.add_uint32(f"clip.vision.{key}", value)
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-6)
    w.add_array("clip.vision.image_mean", [0.5, 0.5, 0.5])
    w.add_array("clip.vision.image_std", [0.5, 0.5, 0.5])
    w.add_array("clip.vision.is_deepstack_layers", [False] * blocks)
    w.add_file_type(0)
    w.add_tensor("v.patch_embd.weight", _rand(rng, e, 3, patch, patch))
    w.add_tensor("v.patch_embd.weight.1", _rand(rng, e, 3, patch, patch))
    w.add_tensor("v.patch_embd.bias", _rand(rng, e))
    w.add_tensor("v.position_embd.weight", _rand(rng, (image // patch) ** 2, e))
    for i in range(blocks):
        b = f"v.blk.{i}"
        w.add_tensor(f"{b}.attn_qkv.weight", _rand(rng, 3 * e, e))
        w.add_tensor(f"{b}.attn_qkv.bias", _rand(rng, 3 * e))
        w.add_tensor(f"{b}.attn_out.weight", _rand(rng, e, e))
        w.add_tensor(f"{b}.attn_out.bias", _rand(rng, e))
        for name in ("ln1", "ln2"):
            w.add_tensor(f"{b}.{name}.weight", np.ones(e, np.float32))
            w.add_tensor(f"{b}.{name}.bias", np.zeros(e, np.float32))
        w.add_tensor(f"{b}.ffn_up.weight", _rand(rng, f, e))
        w.add_tensor(f"{b}.ffn_up.bias", _rand(rng, f))
        w.add_tensor(f"{b}.ffn_down.weight", _rand(rng, e, f))
        w.add_tensor(f"{b}.ffn_down.bias", _rand(rng, e))
    w.add_tensor("v.post_ln.weight", np.ones(e, np.float32))
    w.add_tensor("v.post_ln.bias", np.zeros(e, np.float32))
    w.add_tensor("mm.0.weight", _rand(rng, 4 * e, 4 * e))
    w.add_tensor("mm.0.bias", _rand(rng, 4 * e))
    w.add_tensor("mm.2.weight", _rand(rng, text_hidden, 4 * e))
    w.add_tensor("mm.2.bias", _rand(rng, text_hidden))
    _finish(w)
    return path


def build(folder: Path) -> tuple[Path, Path]:
    return write_text(folder / "tiny-qwen3vl.gguf"), write_mmproj(folder / "mmproj-tiny-qwen3vl.gguf")
