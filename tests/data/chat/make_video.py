#!/usr/bin/env python3
"""Goldens for video placeholders (tests/data/chat/video_goldens.jsonl), from Hugging Face's own
Qwen3-VL processor: frame sampling (Qwen3VLVideoProcessor.sample_frames), the video smart_resize
and Qwen3VLProcessor.replace_video_token (timestamps and pads), then the whole chat prompt rendered
by the template and tokenized by the tokenizers library. Also writes the frames of the CLI case
(video_frames/, 9 PNGs of 60x40). Needs transformers (5.24 made the committed file), numpy, Pillow.

  python3 tests/data/chat/make_video.py
"""
import json
import os

import numpy as np
import torch
from PIL import Image
import types

from tokenizers import Tokenizer
from transformers.models.qwen3_vl.processing_qwen3_vl import Qwen3VLProcessor
from transformers.utils.chat_template_utils import render_jinja_template
from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor, smart_resize
from transformers.video_utils import VideoMetadata

HERE = os.path.dirname(os.path.abspath(__file__))
TOK = os.path.join(HERE, "..", "tokenizer", "qwen35_style_tokenizer.json")
TEMPLATE = os.path.join(HERE, "chat_template.jinja")


def plan(vp, proc, total, fps, h, w):
    md = VideoMetadata(total_num_frames=total, fps=fps, width=w, height=h)
    idx = vp.sample_frames(md)
    size = vp.size
    rh, rw = smart_resize(len(idx), h, w, vp.temporal_patch_size, vp.patch_size * vp.merge_size,
                          size["shortest_edge"], size["longest_edge"])
    t = -(-len(idx) // vp.temporal_patch_size)
    grid = torch.tensor([[t, rh // vp.patch_size, rw // vp.patch_size]])
    md.frames_indices = idx
    text = proc.replace_video_token({"video_grid_thw": grid, "video_metadata": [md]}, 0)
    return [int(i) for i in idx], grid[0].tolist(), text


def main():
    tok = Tokenizer.from_file(TOK)
    vp = Qwen3VLVideoProcessor(size={"shortest_edge": 4096, "longest_edge": 25165824}, cap_pixels_per_frame=False)
    # Qwen3VLProcessor's own replace_video_token and _calculate_timestamps, on an object holding what
    # they read (building the whole processor needs torchvision for its image half)
    proc = types.SimpleNamespace(video_processor=vp, vision_start_token="<|vision_start|>",
                                 vision_end_token="<|vision_end|>", video_token="<|video_pad|>")
    proc._calculate_timestamps = types.MethodType(Qwen3VLProcessor._calculate_timestamps, proc)
    proc.replace_video_token = types.MethodType(Qwen3VLProcessor.replace_video_token, proc)
    cases = []
    # (frames, fps, height, width): short and long clips, odd sample counts, tiny and huge frames
    for total, fps, h, w in [(9, 3.0, 40, 60), (10, 24.0, 30, 40), (100, 30.0, 480, 640), (61, 30.0, 720, 1280),
                             (7, 1.0, 33, 1000), (5000, 25.0, 1080, 1920), (3, 2.0, 64, 64), (301, 29.97, 360, 640),
                             (48, 24.0, 20, 20), (13, 2.0, 100, 7000)]:
        idx, grid, text = plan(vp, proc, total, fps, h, w)
        cases.append({"frames": total, "fps": fps, "height": h, "width": w, "indices": idx, "grid": grid,
                      "placeholder": text})
    # the CLI case: 9 frames of 60x40 at 3 fps, one video in a conversation
    os.makedirs(os.path.join(HERE, "video_frames"), exist_ok=True)
    for i in range(9):
        a = np.zeros((40, 60, 3), np.uint8)
        a[:, :, 0] = 20 * i
        a[5:15, 5 + 5 * i:15 + 5 * i, 1] = 255
        Image.fromarray(a).save(os.path.join(HERE, "video_frames", f"frame_{i:03d}.png"))
    messages = [{"role": "user", "content": [{"type": "video", "video": "clip"},
                                             {"type": "text", "text": "What moves?"}]}]
    rendered = render_jinja_template(conversations=[messages], chat_template=open(TEMPLATE).read(),
                                     add_generation_prompt=True, enable_thinking=False)[0][0]
    _, _, ph = plan(vp, proc, 9, 3.0, 40, 60)
    full = rendered.replace("<|video_pad|>", ph, 1)
    cases.append({"cli": True, "messages": messages, "fps": 3.0, "text": full,
                  "ids": tok.encode(full, add_special_tokens=False).ids})
    with open(os.path.join(HERE, "video_goldens.jsonl"), "w") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
