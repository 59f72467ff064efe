#!/usr/bin/env python3
"""One row of the load run's results from wrk's output (`wrk --latency`).

usage: wrk_report.py NAME CPU_TICKS_BEFORE CPU_TICKS_AFTER TICKS_PER_SECOND WRK_OUTPUT
prints: NAME REQ/S P50_MS P99_MS SERVER_CPU_US_PER_REQ REQUESTS NON_2XX
"""
import re
import sys


def ms(value):
    """`491.00us`, `5.97ms` or `1.02s` in milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    if not m:
        raise ValueError(f"not a wrk latency: {value!r}")
    n, unit = m.groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def percentile(text, p):
    """The latency of percentile `p` from the "Latency Distribution" lines, which start
    with it (`     99%    5.97ms`); never the `+/- Stdev` column (`85.99%`) that ends the
    thread-stats lines."""
    m = re.search(rf"^\s*{p}%\s+(\S+)\s*$", text, re.M)
    if not m:
        raise ValueError(f"wrk's output has no {p}% latency line (was it run with --latency?)")
    return ms(m.group(1))


def parse(text):
    """Requests per second, total requests, p50 and p99 in ms, non-2xx responses."""
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "rps": rps,
        "total": total,
        "p50": percentile(text, 50),
        "p99": percentile(text, 99),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def main(argv):
    name, before, after, tick, path = argv[1], int(argv[2]), int(argv[3]), int(argv[4]), argv[5]
    r = parse(open(path).read())
    cpu_us = (after - before) / tick * 1e6 / max(r["total"], 1)
    print(f"{name} {r['rps']:.0f} {r['p50']:.2f} {r['p99']:.2f} {cpu_us:.1f} {r['total']} {r['non2xx']}")


if __name__ == "__main__":
    main(sys.argv)
