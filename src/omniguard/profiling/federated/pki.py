"""Key material for a Deployment Engine trial: a private CA with a server certificate for the
SuperLink, and the ECDSA keys Flower's SuperNode authentication expects (OpenSSH format; Flower
rejects ed25519). Real deployments bring their own CA; these helpers serve loopback tests, the
demo and first trials.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from omniguard.fileio import atomic_write_bytes


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # CA certificate: what SuperNodes and the flwr CLI trust
    cert: Path | None = None  # SuperLink certificate and key (the coordinator only)
    key: Path | None = None


def _write_key(path: Path, data: bytes) -> None:
    atomic_write_bytes(path, data)
    os.chmod(path, 0o600)


def loopback_pki(folder: Path, *, days: int = 2) -> TlsFiles:
    """A CA and a SuperLink certificate valid for 127.0.0.1 and localhost."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "omniguard federation trial CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key")
    atomic_write_bytes(files.ca, ca.public_bytes(serialization.Encoding.PEM))
    atomic_write_bytes(files.cert, cert.public_bytes(serialization.Encoding.PEM))
    _write_key(files.key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return files


def node_keypair(private_path: Path) -> Path:
    """An ECDSA P-384 key pair for SuperNode authentication; returns the public key's path
    (``<private>.pub``), which the coordinator registers before the node connects."""
    key = ec.generate_private_key(ec.SECP384R1())
    _write_key(private_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                               serialization.NoEncryption()))
    public = private_path.with_name(private_path.name + ".pub")
    atomic_write_bytes(public, key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                             serialization.PublicFormat.OpenSSH) + b"\n")
    return public
