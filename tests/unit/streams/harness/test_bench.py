import os
import subprocess
import sys

from streams.harness.bench import children, peak_rss_mb, worker_peak_rss_mb


def test_the_worker_peak_counts_its_helpers() -> None:
    helper = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        assert helper.pid in children(os.getpid())
        alone, helped = peak_rss_mb(os.getpid()), worker_peak_rss_mb(os.getpid())
        assert helped >= alone + peak_rss_mb(helper.pid) > alone
    finally:
        helper.kill()
        helper.wait()
