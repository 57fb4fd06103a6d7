"""Fix texts that differ per OS: the user's OS (lmdoctor.system.current()), where the fix is
done on this machine. Steps of one server software live with its kind (ServerKind.start_on,
open_to_lan_on); these are the OS's own: trust store, route, firewall, privacy.

Sources: Apple "Control access to your local network on Mac" (macOS 15: without the Local
Network permission connect() to a LAN address fails with EHOSTUNREACH); Apple `security(1)`;
Microsoft `certutil -addstore`, `Test-NetConnection`, `New-NetFirewallRule`.
"""

from __future__ import annotations

import ipaddress

from lmdoctor.system import current as current_system


def trust_fix() -> str:
    """How to make this OS's store trust the server's CA (PicoClaw, in Go, reads that store)."""
    system = current_system()
    if system.macos:
        return (
            "Give the server a certificate from a CA this Mac trusts, or add its CA to the "
            "System keychain (Keychain Access → System → File → Import, then 'Always Trust'; "
            "or `sudo security add-trusted-cert -d -r trustRoot -k "
            "/Library/Keychains/System.keychain ca.pem`); or use http:// for a LAN-only server."
        )
    if system.windows:
        return (
            "Give the server a certificate from a CA this PC trusts, or import its CA into "
            "'Trusted Root Certification Authorities' (certlm.msc, or `certutil -addstore -f Root "
            "ca.pem` in an elevated prompt); or use http:// for a LAN-only server."
        )
    return (
        "Give the server a certificate from a CA this machine trusts, or add its CA to the system "
        "trust store PicoClaw (Go) reads (Linux: /usr/local/share/ca-certificates + "
        "`update-ca-certificates`, or SSL_CERT_FILE); or use http:// if it is a LAN-only server."
    )


def route_check(address: str, port: int) -> str:
    """The command that shows the route to `address` on this OS."""
    system = current_system()
    if system.windows:
        return f"`Test-NetConnection {address} -Port {port}` (PowerShell) or `tracert {address}`"
    if system.macos:
        return f"`route -n get {address}`"
    return f"`ip route get {address}`"


def local_network_privacy(address: str, errno_name: str | None) -> tuple[str, str] | None:
    """(why, fix) when macOS's Local Network privacy explains an EHOSTUNREACH to a LAN address."""
    if not current_system().macos or errno_name != "EHOSTUNREACH":
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if not (ip.is_private or ip.is_link_local) or ip.is_loopback:
        return None
    return (
        "on macOS 15 and later an app without the Local Network permission gets 'No route to "
        "host' (EHOSTUNREACH) for every address on the local network",
        "Allow your terminal app (Terminal, iTerm2, VS Code, …) and PicoClaw under System "
        "Settings → Privacy & Security → Local Network, then quit and reopen it; if they are "
        f"allowed, check the route ({route_check(address, 0)}) and that the host is up.",
    )


def firewall_allow(port: int) -> str:
    """How to allow inbound TCP `port` in this OS's local firewall."""
    system = current_system()
    if system.windows:
        return (
            f"Allow inbound TCP {port} in Windows Defender Firewall (elevated PowerShell: "
            f"`New-NetFirewallRule -DisplayName 'LLM server {port}' -Direction Inbound "
            f"-Protocol TCP -LocalPort {port} -Action Allow`)."
        )
    if system.macos:
        return (
            "Allow the server app in the macOS firewall (System Settings → Network → Firewall → "
            "Options), or in pf rules if you use them."
        )
    return f"Allow inbound TCP {port} in the local firewall (ufw/firewalld/nftables rules)."
