"""Settings of bench/webhook_ack.py: the project's settings plus one trivial view (baseline)."""

from better_laser_erp.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
