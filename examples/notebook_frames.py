"""Notebook front end: frames as arrays, one picture to show, a video to embed.

    python examples/notebook_frames.py out_dir
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import fastviz

out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
background, electrodes = fastviz._demo.demo_scene()
xs, ys = fastviz.load_electrodes(electrodes)
renderer = fastviz.FrameRenderer(background, xs, ys, cmap="viridis" if "--mpl" in sys.argv
                                 else ["navy", "white", "crimson"])

# Any values in 0..1, one per electrode: here a travelling wave along the x axis.
t = np.linspace(0, 2, 48)[:, None]
values = 0.5 + 0.5 * np.sin(2 * np.pi * (t - xs[None, :] / 400))
frames = renderer.frames(values)  # (48, H, W, 3) uint8, ready for any display
Image.fromarray(frames[0]).save(out_dir / "frame0.png")  # IPython.display.Image(...)

with fastviz.VideoWriter(out_dir / "wave.mp4", (renderer.width, renderer.height), 24,
                         overwrite=True) as video:  # IPython.display.Video(...)
    video.write(frames)
print(f"wrote {out_dir / 'frame0.png'} and {out_dir / 'wave.mp4'}")
