"""Sounds and images as arrays, grouped by job as librosa groups its own: nothing here knows a
model, a representation or a stimulus folder.

- :mod:`~stimgen.signal.audio`: sound files in and out, levels, ramps, durations;
- :mod:`~stimgen.signal.image`: image files in and out;
- :mod:`~stimgen.signal.spectrogram`: the log-mel spectrogram a model sees, and its inverse;
- :mod:`~stimgen.signal.griffinlim`: batched fast Griffin-Lim on torch;
- :mod:`~stimgen.signal.world`: WORLD analysis and synthesis, voices and F0 policies;
- :mod:`~stimgen.signal.phonetics`: Praat's measurements (formants, F0, HNR), the Bark scale;
- :mod:`~stimgen.signal.features`: what a stimulus measures, as manifests report it;
- :mod:`~stimgen.signal.song_features`: Sound Analysis Pro's features of a birdsong syllable;
- :mod:`~stimgen.signal.distances`: distances between stimuli, with their units;
- :mod:`~stimgen.signal.segment`: recordings cut into units, and the window of a long file;
- :mod:`~stimgen.signal.splice`: a sound put into a recording in the place of another, level matched.

The modules are imported one by one (``from stimgen.signal.audio import load_audio``), so that
reading a WAV does not import torch.
"""
