"""moviepy front end: fastviz's dots composited over other footage by moviepy.

The render is prepared once (the analysis, the scene); moviepy asks it for each frame
(``make_frame``) and its mask (``make_mask``, the dots' coverage), and lays the dots over
a backdrop of its own: here a dark gradient, with the song as the sound.

    python examples/moviepy_composite.py out.mp4
"""
import sys
import tempfile
from pathlib import Path

import numpy as np
from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, VideoClip

import fastviz

output = sys.argv[1] if len(sys.argv) > 1 else "moviepy_composite.mp4"
with tempfile.TemporaryDirectory() as tmp:
    song = fastviz.demo_audio(Path(tmp) / "song.wav")
    # transparent: make_frame gives the dots' own colours, make_mask their coverage
    dots = fastviz.prepare(song, duration=2, size=(320, 240), fps=24, transparent=True,
                           progress=False)
    overlay = VideoClip(dots.make_frame, duration=dots.duration)
    overlay = overlay.with_mask(VideoClip(dots.make_mask, is_mask=True,
                                          duration=dots.duration))
    ramp = np.linspace(20, 90, 270)[:, None, None] * np.array([0.3, 0.5, 1.0])
    backdrop = ImageClip(np.broadcast_to(ramp, (270, 480, 3)).astype(np.uint8),
                         duration=dots.duration)
    clip = CompositeVideoClip([backdrop, overlay.with_position((80, 15))])
    clip = clip.with_audio(AudioFileClip(str(song)).subclipped(0, dots.duration))
    clip.write_videofile(output, fps=24, codec="libx264", audio_codec="aac", logger=None)
print(f"wrote {output}")
