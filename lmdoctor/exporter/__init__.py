"""`lmdoctor serve`: a Prometheus probe exporter in the manner of blackbox_exporter.

- targets.py: the loaded config (named targets), reloads on SIGHUP and file change, keeping the
  last good config when a new one is bad;
- prober.py: probes on one asyncio loop; concurrent probes of one target share one run; a
  per-probe deadline;
- web.py: the HTTP server (/probe, /metrics, /), the SSRF guard and the probe deadline;
- own.py: the exporter's own metrics (/metrics) and its page (/).

Only the CLI imports this package, so prometheus_client loads only for `serve`.
"""

from lmdoctor.exporter.web import ServeOptions, parse_listen, run_server

__all__ = ["ServeOptions", "parse_listen", "run_server"]
