"""Reads a TensorBoard log directory with TensorBoard's own EventAccumulator and
prints the scalars as JSON: {tag: [[step, value], ...]} in file order.

Used by event_file_writer_test.cpp as an independent reader of the event files
medtrain writes by hand. With --meta the output is
{"file_version": <float or null>, "scalars": {tag: [[step, value, wall_time], ...]}}.

usage: read_tensorboard.py [--meta] <logdir>
"""

import json
import sys

from tensorboard.backend.event_processing import event_accumulator


def main(argv):
    meta = "--meta" in argv
    paths = [a for a in argv if a != "--meta"]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    acc = event_accumulator.EventAccumulator(
        paths[0], size_guidance={event_accumulator.SCALARS: 0}
    )
    acc.Reload()
    scalars = {}
    for tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        if meta:
            scalars[tag] = [[e.step, e.value, e.wall_time] for e in events]
        else:
            scalars[tag] = [[e.step, e.value] for e in events]
    if meta:
        json.dump({"file_version": acc.file_version, "scalars": scalars}, sys.stdout)
    else:
        json.dump(scalars, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
