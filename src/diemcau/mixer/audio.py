"""The mixed sound: one `audiomixer` per leg, each summing every input but the leg's own (a
mix-minus: nobody hears themselves back), and a `level` meter per input for the active
speaker.

    input (raw audio) → audioconvert → audioresample → 48 kHz mono → level → tee
    tee → queue → mix pad (mute) of every mix that does not exclude this input
    live silence → audiomixer "mix" → the leg's encoder (Opus, G.722, G.711)

A muted input is not mixed: its pads get `mute` (KH Đ11.6: participants enter muted, the
host gives the floor). Runs on the pipeline's main loop (see `pipeline.MixerPipeline`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .gst import Gst, add_chain, caps, make

RATE = 48000
RAW = f"audio/x-raw,format=S16LE,layout=interleaved,rate={RATE},channels=1"
LEVEL_INTERVAL_NS = 100_000_000  # ten levels a second for the active speaker


@dataclass
class _Input:
    key: Hashable
    elements: list[Any]
    level: Any
    tee: Any
    muted: bool = False


@dataclass
class _Mix:
    key: Hashable
    exclude: Hashable | None
    mixer: Any
    silence: list[Any]
    pads: dict[Hashable, tuple[Any, Any]] = field(default_factory=dict)  # input → (queue, pad)


@dataclass
class AudioMixer:
    pipeline: Any
    inputs: dict[Hashable, _Input] = field(default_factory=dict)
    mixes: dict[Hashable, _Mix] = field(default_factory=dict)

    def level_key(self, element: Any) -> Hashable | None:
        """The input whose `level` element posted a message."""
        for key, entry in self.inputs.items():
            if entry.level is element:
                return key
        return None

    # ------------------------------------------------------------------ inputs

    def add_input(self, key: Hashable, source_pad: Any, owned: Sequence[Any] = (),
                  muted: bool = False) -> None:
        if key in self.inputs:
            raise ValueError(f"input {key!r} exists")
        level = make("level", interval=LEVEL_INTERVAL_NS, post_messages=True)
        tee = make("tee", allow_not_linked=True)
        elements = [make("queue", max_size_time=200_000_000, max_size_buffers=0,
                         max_size_bytes=0, leaky="downstream"),
                    make("audioconvert"), make("audioresample"),
                    make("capsfilter", caps=caps(RAW)), level, tee]
        add_chain(self.pipeline, *elements)
        source_pad.link(elements[0].get_static_pad("sink"))
        for element in owned:
            element.sync_state_with_parent()
        entry = _Input(key, [*owned, *elements], level, tee, muted)
        self.inputs[key] = entry
        for mix in self.mixes.values():
            if mix.exclude != key:
                self._connect(mix, entry)

    def remove_input(self, key: Hashable) -> None:
        entry = self.inputs.pop(key, None)
        if entry is None:
            return
        for mix in self.mixes.values():
            self._disconnect(mix, key)
        for element in entry.elements:
            element.set_state(Gst().State.NULL)
        for element in entry.elements:
            self.pipeline.remove(element)

    def set_muted(self, key: Hashable, muted: bool) -> None:
        entry = self.inputs.get(key)
        if entry is None:
            return
        entry.muted = muted
        for mix in self.mixes.values():
            if key in mix.pads:
                mix.pads[key][1].set_property("mute", muted)

    # ------------------------------------------------------------------ mixes

    def add_mix(self, key: Hashable, exclude: Hashable | None, sink_pad: Any) -> None:
        """A new mix of every input but `exclude`, linked to `sink_pad` (an encoder's, in the
        pipeline already) before it starts: an aggregator pushing into nothing would stop
        the whole pipeline with not-linked."""
        if key in self.mixes:
            raise ValueError(f"mix {key!r} exists")
        mixer = make("audiomixer")
        # The live silence keeps the mix running, at the right pace, with no input at all.
        silence = [make("audiotestsrc", is_live=True, wave="silence",
                        samplesperbuffer=RATE // 50),
                   make("capsfilter", caps=caps(RAW))]
        for element in [*silence, mixer]:
            self.pipeline.add(element)
        silence[0].link(silence[1])
        silence[-1].get_static_pad("src").link(mixer.request_pad_simple("sink_%u"))
        mixer.get_static_pad("src").link(sink_pad)
        sink_pad.get_parent_element().sync_state_with_parent()
        for element in [mixer, *reversed(silence)]:
            element.sync_state_with_parent()
        mix = _Mix(key, exclude, mixer, silence)
        self.mixes[key] = mix
        for input_key, entry in self.inputs.items():
            if input_key != exclude:
                self._connect(mix, entry)

    def remove_mix(self, key: Hashable) -> None:
        mix = self.mixes.pop(key, None)
        if mix is None:
            return
        for input_key in list(mix.pads):
            self._disconnect(mix, input_key)
        for element in [*mix.silence, mix.mixer]:
            element.set_state(Gst().State.NULL)
            self.pipeline.remove(element)

    def _connect(self, mix: _Mix, entry: _Input) -> None:
        queue = make("queue", max_size_time=200_000_000, max_size_buffers=0, max_size_bytes=0,
                     leaky="downstream")
        self.pipeline.add(queue)
        pad = mix.mixer.request_pad_simple("sink_%u")
        pad.set_property("mute", entry.muted)
        queue.get_static_pad("src").link(pad)
        queue.sync_state_with_parent()
        entry.tee.request_pad_simple("src_%u").link(queue.get_static_pad("sink"))
        mix.pads[entry.key] = (queue, pad)

    def _disconnect(self, mix: _Mix, key: Hashable) -> None:
        found = mix.pads.pop(key, None)
        if found is None:
            return
        queue, pad = found
        sink = queue.get_static_pad("sink")
        tee_pad = sink.get_peer()
        queue.set_state(Gst().State.NULL)
        if tee_pad is not None:
            tee_pad.unlink(sink)
            tee_pad.get_parent_element().release_request_pad(tee_pad)
        queue.get_static_pad("src").unlink(pad)
        mix.mixer.release_request_pad(pad)
        self.pipeline.remove(queue)
