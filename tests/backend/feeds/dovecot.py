"""A real IMAP server for the tests: Debian's Dovecot, installed if missing, run in the foreground
with its own config in a temp dir (passwd-file user, maildir in the temp dir, no TLS, a free
loopback port). `idle=False` leaves IDLE out of the advertised capabilities; `tls=(cert, key)`
turns on STARTTLS on `port` and implicit TLS on `tls_port`."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

from tests.live_server import free_port

USER, PASSWORD = "ada", "correct horse"
_NO_IDLE = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ UIDPLUS"


def ensure_dovecot() -> str:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-qq", "dovecot-imapd"], env=env,
                          capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "dovecot-imapd"], env=env, check=True,
                           capture_output=True)
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    return binary


class Dovecot:
    """`root`: a directory the dovecot user can reach (not under pytest's 0700 tmp_path)."""

    def __init__(self, root: Path, *, idle: bool = True, password: str = PASSWORD,
                 tls: tuple[Path, Path] | None = None) -> None:
        self.root, self.port, self.idle, self.password = root, free_port(), idle, password
        self.tls_port = free_port() if tls else 0
        self.binary = ensure_dovecot()
        self.proc: subprocess.Popen[bytes] | None = None
        for d in ("run", "state", "mail"):
            (root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)   # the mail processes run as the dovecot user
        shutil.chown(root / "mail", "dovecot", "dovecot")
        (root / "users").write_text(f"{USER}:{{PLAIN}}{password}::::::\n")
        capability = "" if idle else f"imap_capability = {_NO_IDLE}\n"
        (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{f"ssl = yes{chr(10)}ssl_cert = <{tls[0]}{chr(10)}ssl_key = <{tls[1]}" if tls else "ssl = no"}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
{capability}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")

    async def start(self) -> None:
        """Start it and wait until it accepts connections."""
        self.proc = subprocess.Popen([self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while loop.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stdout.read().decode() if self.proc.stdout else ''}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise RuntimeError("dovecot did not start listening")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            await asyncio.get_running_loop().run_in_executor(None, self.proc.wait, 20)
        self.proc = None

    def credential(self, password: str | None = None) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": self.port, "username": USER, "password": password or self.password,
                "security": "none"}
