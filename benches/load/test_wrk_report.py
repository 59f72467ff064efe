"""Tests of wrk_report.py on wrk outputs as wrk prints them (`python3 -m unittest`)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import wrk_report  # noqa: E402

# A stdev column ending in `99%` on the line before the distribution: an unanchored
# `99%\s+(\S+)` read `Req/Sec` there and the run crashed.
TRAP = """Running 10s test @ http://127.0.0.1:3000/layer
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   635.91us    0.89ms  12.92ms   85.99%
    Req/Sec    98.50k     3.10k  105.00k    78.50%
  Latency Distribution
     50%  491.00us
     75%  612.00us
     90%    1.03ms
     99%    5.97ms
  980123 requests in 10.00s, 120.00MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  98012.30
Transfer/sec:     12.00MB
"""


class Parse(unittest.TestCase):
    def test_percentiles_come_from_the_distribution_lines(self):
        r = wrk_report.parse(TRAP)
        self.assertAlmostEqual(r["p50"], 0.491)
        self.assertAlmostEqual(r["p99"], 5.97)
        self.assertEqual((r["total"], r["non2xx"]), (980123, 12))
        self.assertAlmostEqual(r["rps"], 98012.30)

    def test_a_stdev_of_fifty_percent_is_not_the_median(self):
        text = TRAP.replace("85.99%", "50%").replace("78.50%", "99%")
        r = wrk_report.parse(text)
        self.assertAlmostEqual(r["p50"], 0.491)
        self.assertAlmostEqual(r["p99"], 5.97)

    def test_seconds_and_missing_latency_lines(self):
        self.assertEqual(wrk_report.ms("1.50s"), 1500)
        without = TRAP.replace("     99%    5.97ms\n", "")
        with self.assertRaisesRegex(ValueError, "no 99% latency line"):
            wrk_report.parse(without)


if __name__ == "__main__":
    unittest.main()
