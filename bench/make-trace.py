#!/usr/bin/env python3
"""Writes a replay trace (DESIGN.md section 6) of N commands to stdout: 8 spaces besides space 0,
pid_max 32,768, about 55 % allocs and 45 % frees of live pids, spread over the spaces at random.
Every command is valid: the script follows the next-fit rule to know which pids are live.

    bench/make-trace.py 1000000 > trace.txt
    time java -jar target/pidspace.jar replay < trace.txt > answers.txt
"""
import random
import sys

SHIFT, PID_MAX, SPACES = 22, 32768, 9


class Space:
    """DESIGN.md section 1: space 0 starts at last_pid 0 and wraps to 300; a new space at 1 and 1."""

    def __init__(self, default):
        self.allocated, self.last, self.floor = set(), 0 if default else 1, 300 if default else 1

    def alloc(self):
        for vpids in (range(self.last + 1, PID_MAX), range(self.floor, self.last + 1)):
            for v in vpids:
                if v not in self.allocated:
                    self.allocated.add(v)
                    self.last = v
                    return v
        return -1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(7)
    out = sys.stdout
    out.write(f"pid-max {PID_MAX}\n")
    for s in range(1, SPACES):
        out.write(f"space-create {s}\n")
    spaces = [Space(s == 0) for s in range(SPACES)]
    live = [[] for _ in range(SPACES)]
    for _ in range(n - SPACES):
        s = rng.randrange(SPACES)
        if rng.random() < 0.45 and live[s]:
            i = rng.randrange(len(live[s]))
            v = live[s][i]
            live[s][i] = live[s][-1]
            live[s].pop()
            spaces[s].allocated.discard(v)
            out.write(f"free {(s << SHIFT) | v}\n")
        else:
            v = spaces[s].alloc()
            if v > 0:
                live[s].append(v)
            out.write(f"alloc {s}\n")


if __name__ == "__main__":
    main()
