"""A local HTTP/2 server over TLS that answers like Apple's push service, for the APNs
backend's tests: it requires a client certificate and records each push."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import h2.config
import h2.connection
import h2.events
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Push:
    path: str
    headers: dict
    body: bytes
    client_subject: str


def _server_certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a 127.0.0.1 certificate it signed: (ca file, cert file, key file)."""
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test APNs CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


class APNsServer:
    """Answers 200, or 410 `{"reason": "Unregistered"}` for tokens in `gone`."""

    def __init__(self, directory: Path, client_ca_files: list[str]):
        self.ca_file, cert, key = _server_certificate(directory)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.context.verify_mode = ssl.CERT_REQUIRED
        for ca in client_ca_files:
            self.context.load_verify_locations(ca)
        self.context.set_alpn_protocols(["h2"])
        self.pushes: list[Push] = []
        self.gone: set[str] = set()
        self.errors: list[Exception] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.running = True

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> APNsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.running = False
        self.sock.close()

    def _serve(self) -> None:
        while self.running:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(raw,), daemon=True).start()

    def _connection(self, raw: socket.socket) -> None:
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as error:
            self.errors.append(error)
            raw.close()
            return
        assert conn.selected_alpn_protocol() == "h2"
        subject = dict(x[0] for x in conn.getpeercert()["subject"]).get("commonName", "")
        h2conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        h2conn.initiate_connection()
        conn.sendall(h2conn.data_to_send())
        streams: dict[int, dict] = {}
        with conn:
            while True:
                data = conn.recv(65535)
                if not data:
                    return
                for event in h2conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {k.decode(): v.decode() for k, v in event.headers}
                        streams[event.stream_id] = {"headers": headers, "body": b""}
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        h2conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded):
                        self._answer(h2conn, event.stream_id, streams.pop(event.stream_id), subject)
                conn.sendall(h2conn.data_to_send())

    def _answer(self, h2conn, stream_id: int, request: dict, subject: str) -> None:
        path = request["headers"][":path"]
        self.pushes.append(Push(path, request["headers"], request["body"], subject))
        token = path.rsplit("/", 1)[-1]
        if token in self.gone:
            body = b'{"reason":"Unregistered"}'
            h2conn.send_headers(stream_id, [(":status", "410"), ("content-length", str(len(body)))])
            h2conn.send_data(stream_id, body, end_stream=True)
        else:
            h2conn.send_headers(stream_id, [(":status", "200")], end_stream=True)
