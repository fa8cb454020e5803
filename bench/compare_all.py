#!/usr/bin/env python3
"""compare_all: every resmeter figure next to its reference tool, measured in
the same run on the same machine, repeated, with the spread of the repeats.

  figure                         reference (program that runs both)
  cpu burst / all-core clock     imul dependency chain timed right after it (cpu_memory_compare)
  memory triad / copy            likwid-bench stream at the same array size and threads; mbw (cpu_memory_compare)
  disk bw / IOPS / p99           fio with the same workload, engine and file (disk_io_vs_fio)
  net upload / download          iperf3 between the same two namespaces (net_iperf3_compare.sh, root)
  ledger audit per core          openssl speed ed25519 verify (ledger_audit_throughput)

Each program already runs resmeter and its reference back to back; this
script runs each one --repeats times, parses the "ratio" of every figure and
prints, per figure, the median ratio with its min..max, and the spread
((max - min) / median) of resmeter's value and of the reference's across the
repeats, so a ratio can be read against the noise of both sides.

Usage: bench/compare_all.py [--build build] [--repeats 3] [--only cpu,memory,disk,net,ledger]
Programs that are not built, tools that are missing and parts needing root
are reported as skipped, not as failures. Exit 0 unless a program crashed.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)

# "  burst vs imul chain reference   resmeter   3.412 GHz   reference   3.420 GHz   ratio 0.998"
RATIO_LINE = re.compile(r"^\s+(?P<name>.+?)\s+resmeter\s+(?P<ours>[\d.]+) (?P<unit>\S+)\s+reference\s+"
                        r"(?P<ref>[\d.]+) \S+\s+ratio (?P<ratio>[\d.]+)")
# disk_io_vs_fio table row: name bs qd | fio rm ratio | fio rm ratio | fio rm ratio | spreads
DISK_ROW = re.compile(r"^(?P<name>\S+)\s+(?P<bs>\d+)\s+(?P<qd>\d+) \|\s+(?P<fbw>[\d.]+)\s+(?P<rbw>[\d.]+)\s+[\d.]+ \|"
                      r"\s+(?P<fiops>[\d.]+)\s+(?P<riops>[\d.]+)\s+[\d.]+ \|\s+(?P<fp99>[\d.]+)ms\s+(?P<rp99>[\d.]+)ms")
# net_iperf3_compare: "   upload    iperf3   9400.1 Mbit/s   resmeter   9350.2 Mbit/s   resmeter/iperf3 0.995"
NET_ROW = re.compile(r"^\s+(?P<dir>upload|download)\s+iperf3\s+(?P<ref>[\d.]+) Mbit/s\s+resmeter\s+(?P<ours>[\d.]+) Mbit/s")
NET_COND = re.compile(r"^-- (?P<cond>.+)$")
# ledger_audit_throughput
LEDGER_OURS = re.compile(r"-> (?P<v>[\d.]+) statements per CPU-second")
LEDGER_REF = re.compile(r"openssl speed .*: (?P<v>[\d.]+) verify/s")


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                           cwd=SRC)
        return p.returncode, p.stdout
    except FileNotFoundError as e:
        return 127, str(e)
    except subprocess.TimeoutExpired:
        return 124, "timed out after %d s" % timeout


def parse_cpu_memory(out):
    figures = {}
    for line in out.splitlines():
        m = RATIO_LINE.match(line)
        if m:
            figures[m["name"]] = (float(m["ours"]), float(m["ref"]), m["unit"])
    return figures


def parse_disk(out):
    figures = {}
    for line in out.splitlines():
        m = DISK_ROW.match(line)
        if not m:
            continue
        key = "disk %s bs %s qd %s" % (m["name"], m["bs"], m["qd"])
        figures[key + " MiB/s vs fio"] = (float(m["rbw"]), float(m["fbw"]), "MiB/s")
        figures[key + " IOPS vs fio"] = (float(m["riops"]), float(m["fiops"]), "IOPS")
        figures[key + " p99 vs fio"] = (float(m["rp99"]), float(m["fp99"]), "ms")
    return figures


def parse_net(out):
    figures, cond = {}, "?"
    for line in out.splitlines():
        c = NET_COND.match(line)
        if c:
            cond = c["cond"]
            continue
        m = NET_ROW.match(line)
        if m:
            figures["net %s %s vs iperf3" % (cond, m["dir"])] = (float(m["ours"]), float(m["ref"]), "Mbit/s")
    return figures


def parse_ledger(out):
    ours, ref = LEDGER_OURS.search(out), LEDGER_REF.search(out)
    if not ours or not ref:
        return {}
    return {"ledger audit per core vs openssl speed ed25519": (float(ours["v"]), float(ref["v"]), "/s")}


def parts(build):
    return [
        ("cpu,memory", [os.path.join(build, "bench", "cpu_memory_compare")], parse_cpu_memory, 600),
        ("disk", [os.path.join(build, "bench", "disk_io_vs_fio")], parse_disk, 1800),
        ("net", ["bash", os.path.join(HERE, "net_iperf3_compare.sh"), os.path.join(build, "resmeter")], parse_net, 600),
        ("ledger", [os.path.join(build, "bench", "ledger_audit_throughput")], parse_ledger, 600),
    ]


def spread(values):
    med = statistics.median(values)
    return (max(values) - min(values)) / med if med else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="cpu,memory,disk,net,ledger")
    a = ap.parse_args()
    if a.repeats < 1:
        print("compare_all: --repeats must be at least 1", file=sys.stderr)
        return 2
    wanted = set(a.only.split(","))
    build = os.path.abspath(a.build)
    samples = {}  # figure -> list of (ours, ref)
    units = {}
    crashed = False
    for names, cmd, parse, timeout in parts(build):
        if not wanted & set(names.split(",")):
            continue
        exe = cmd[-1] if cmd[0] == "bash" else cmd[0]
        if not os.path.exists(exe):
            print("compare_all: %s: skipped (%s not built)" % (names, exe))
            continue
        for r in range(a.repeats):
            rc, out = run(cmd, timeout)
            if rc == 77 or "SKIP" in out or "skipped" in out:
                print("compare_all: %s: skipped: %s" % (names, out.strip().splitlines()[-1] if out.strip() else rc))
                break
            figures = parse(out)
            if rc != 0 or not figures:
                print("compare_all: %s run %d failed (exit %d): %s" % (names, r + 1, rc, out.strip()[-300:]))
                crashed = crashed or rc < 0
                continue
            for name, (ours, ref, unit) in figures.items():
                samples.setdefault(name, []).append((ours, ref))
                units[name] = unit
            print("compare_all: %s run %d of %d done" % (names, r + 1, a.repeats), flush=True)
    print()
    print("%-52s %12s %12s %8s  %-15s %9s %9s %3s" %
          ("figure", "resmeter", "reference", "ratio", "ratio min..max", "spread rm", "spread ref", "n"))
    for name in sorted(samples):
        pairs = samples[name]
        ours = [p[0] for p in pairs]
        refs = [p[1] for p in pairs]
        ratios = [o / r for o, r in pairs if r > 0]
        if not ratios:
            continue
        print("%-52s %12.4g %12.4g %8.3f  %6.3f..%-7.3f %8.1f%% %8.1f%% %3d  %s" %
              (name[:52], statistics.median(ours), statistics.median(refs), statistics.median(ratios), min(ratios),
               max(ratios), 100 * spread(ours), 100 * spread(refs), len(pairs), units[name]))
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
