"""moviepy front end: fastviz draws the frames, moviepy assembles the clip.

moviepy 2 removed ``mplfig_to_npimage``; a fastviz frame function takes its place and
never touches matplotlib.

    python examples/moviepy_frame_function.py out.mp4
"""
import sys

import numpy as np
from moviepy import AudioArrayClip, VideoClip

import fastviz

output = sys.argv[1] if len(sys.argv) > 1 else "moviepy_demo.mp4"
samples, rate = fastviz._demo.jingle_bells()
samples, seconds = samples[: 4 * rate], 4.0  # the first bars are enough here

env = fastviz.audio_envelopes(samples, rate)
background, electrodes = fastviz._demo.demo_scene()
xs, ys = fastviz.load_electrodes(electrodes)
renderer = fastviz.FrameRenderer(background, xs, ys, size=(400, 300))
amplitudes = env.scaled()[fastviz.electrode_bands(ys, len(env.freqs))]

clip = VideoClip(frame_function=renderer.frame_function(amplitudes, env.rate),
                 duration=seconds)
clip = clip.with_audio(AudioArrayClip(np.stack([samples, samples], axis=1), fps=rate))
clip.write_videofile(output, fps=24, codec="libx264", audio_codec="aac", logger=None)
print(f"wrote {output}")
