#!/usr/bin/env python3
"""Load a spikeloop recording (spikeloop run --record FILE.mcap) and plot it.

    pip install mcap zstandard matplotlib numpy
    python3 examples/plot_recording.py run.mcap --out run.png   # raster, rates, path
    python3 examples/plot_recording.py run.mcap --summary       # one JSON line, no plotting

Messages are JSON (see README "Recording, replay, Foxglove and plots"); the run's description
(model, parameters, N, layout, mapping, arena, safety, ROS 2 robot params) is the MCAP metadata
record "spikeloop.run". Recordings without an arena (ROS 2, ws, synthetic) get raster and rates.
"""
import argparse
import json
import sys

from mcap.reader import make_reader


def load(path):
    """Returns (description, ticks) where ticks maps topic -> list of decoded messages in order."""
    description = None
    messages = {}
    with open(path, "rb") as stream:
        reader = make_reader(stream)
        for record in reader.iter_metadata():
            if record.name == "spikeloop.run":
                description = json.loads(record.metadata["description"])
        for _schema, channel, message in reader.iter_messages(log_time_order=False):
            messages.setdefault(channel.topic, []).append(json.loads(message.data))
    if description is None:
        sys.exit(f"{path}: not a spikeloop recording (no spikeloop.run metadata)")
    return description, messages


def spikes_of(description, messages):
    """Spike times (s from the first recorded tick) and neuron ids of instance 0."""
    dt_s = description["dtMs"] / 1000.0
    spikes = messages.get("/spikeloop/spikes", [])
    first_step = spikes[0]["firstStep"] if spikes else 0
    times, ids = [], []
    for tick in spikes:
        base = tick["firstStep"] - first_step
        times.extend((base + step) * dt_s for step in tick["steps"])
        ids.extend(tick["ids"])
    return times, ids


def summary(path):
    description, messages = load(path)
    times, ids = spikes_of(description, messages)
    motor = {t: len(m) for t, m in messages.items() if t.startswith("/motor/")}
    return {
        "env": description["env"],
        "n": description["n"],
        "seed": description["seed"],
        "ticks": len(messages.get("/spikeloop/tick", [])),
        "spikes": len(ids),
        "motorCommands": motor,
        "pathPoints": len(messages.get("/arena/state", [])),
        "topics": sorted(messages),
    }


def plot(path, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    description, messages = load(path)
    layout = description["layout"]
    times, ids = spikes_of(description, messages)
    times = np.asarray(times)
    ids = np.asarray(ids)
    has_path = "/arena/state" in messages
    fig, axes = plt.subplots(1, 3 if has_path else 2, figsize=(16 if has_path else 11, 4.5))

    # Raster: neuron ids are contiguous per population (E0…E(Q−1), then I0…I(Q−1)), so ordering by
    # id is ordering by cluster.
    raster = axes[0]
    excitatory = ids < layout["nE"]
    raster.scatter(times[excitatory], ids[excitatory], s=0.5, c="#1f5fbf", marker="|", label="E")
    raster.scatter(times[~excitatory], ids[~excitatory], s=0.5, c="#d0342c", marker="|", label="I")
    for q in range(1, layout["clusters"]):
        raster.axhline(q * layout["nEPerCluster"], color="#ddd", lw=0.4)
    raster.axhline(layout["nE"], color="#888", lw=0.8)
    raster.set(xlabel="time (s)", ylabel="neuron (ordered by cluster)", title="spike raster")

    # Population rates per E cluster, in 20 ms bins from the per-tick counts.
    rates = axes[1]
    counts = np.asarray([m["counts"] for m in messages["/spikeloop/population"]], dtype=float)
    tick_s = description["tickMs"] / 1000.0
    per_bin = max(1, int(round(0.02 / tick_s)))
    bins = len(counts) // per_bin
    if bins > 0:
        binned = counts[: bins * per_bin].reshape(bins, per_bin, -1).sum(axis=1)
        t = (np.arange(bins) + 0.5) * per_bin * tick_s
        q = layout["clusters"]
        for cluster in range(q):
            rates.plot(t, binned[:, cluster] / (layout["nEPerCluster"] * per_bin * tick_s), lw=0.8)
        inhibitory = binned[:, q:].sum(axis=1) / (layout["nI"] * per_bin * tick_s)
        rates.plot(t, inhibitory, "k--", lw=1, label="I (all)")
        rates.legend(loc="upper right")
    rates.set(xlabel="time (s)", ylabel="rate (Hz)", title="E cluster rates")

    if has_path:
        arena = axes[2]
        states = messages["/arena/state"]
        arena.plot([s["x"] for s in states], [s["y"] for s in states], lw=1)
        targets = {(s["targetX"], s["targetY"]) for s in states}
        arena.scatter([x for x, _ in targets], [y for _, y in targets], c="#1a9a40", label="targets")
        scene = description.get("scene") or {}
        for shape in scene.get("obstacles", []):
            if shape["kind"] == "circle":
                arena.add_patch(plt.Circle((shape["x"], shape["y"]), shape["radiusM"], color="#bbb"))
            else:
                arena.plot([shape["x1"], shape["x2"]], [shape["y1"], shape["y2"]], color="#777", lw=3)
        arena.set(xlim=(0, scene.get("widthM", 4)), ylim=(0, scene.get("heightM", 4)), aspect="equal")
        arena.set(xlabel="x (m)", ylabel="y (m)", title="robot path")
        arena.legend(loc="upper right")

    fig.tight_layout()
    fig.savefig(out, dpi=150)
    print(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording")
    parser.add_argument("--out", default="recording.png", help="figure file (png, svg, pdf)")
    parser.add_argument("--summary", action="store_true", help="print one JSON line instead of plotting")
    args = parser.parse_args()
    if args.summary:
        print(json.dumps(summary(args.recording)))
    else:
        plot(args.recording, args.out)


if __name__ == "__main__":
    main()
