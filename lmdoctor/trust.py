"""Which certificates a verified connection trusts: the store PicoClaw (Go) uses.

Its own small module so the HTTP client gets it without importing the network probes."""

from __future__ import annotations

import ssl

from lmdoctor.system import System
from lmdoctor.system import current as current_system


def trust_context(system: System | None = None) -> ssl.SSLContext:
    """Verify certificates against the store PicoClaw (Go) uses: the macOS Keychain and the
    Windows certificate store through `truststore` (Go's crypto/x509 root_darwin.go and
    root_windows.go ask the OS too); on Linux OpenSSL's default paths plus SSL_CERT_FILE and
    SSL_CERT_DIR, the files Go's root_linux.go reads. Not certifi: a corporate root CA or a
    python.org Python without "Install Certificates" would give a false net.tls_invalid."""
    system = system or current_system()
    if system.windows or system.macos:
        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return ssl.create_default_context()
