"""Test send: one built newsletter message (output/newsletter/<slug>/message.eml), addressed to one
person and delivered over SMTP with site.yaml's newsletter.smtp settings. The password comes only
from the environment. Every failure is a SendError of one line; the message is either accepted
whole by the server (its reply to the end of DATA) or not delivered at all."""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from email import policy
from email.headerregistry import Address
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from pathlib import Path

from pipeline.model import SmtpConfig
from pipeline.slugs import SLUG

PASSWORD_VARIABLE = "PIPELINE_SMTP_PASSWORD"


class SendError(Exception):
    """A test send that did not happen: one line for the user, about a file (`path`) or not."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path

    def format(self) -> str:
        return f"{self.path}: error: {self}" if self.path else f"error: {self}"


def send_built(settings: SmtpConfig | None, output: Path, slug: str, to: str, password: str | None,
               timeout: float) -> Path:
    """Send the built message of the article `slug` (under `output`) to `to`; returns its path."""
    if settings is None:
        raise SendError("newsletter.smtp is not set; add it under newsletter, like `smtp: {host: smtp.example.com, "
                        "port: 587, security: starttls, username: news@clinic.example}`", "content/site.yaml")
    folder = output / "newsletter"
    path = message_path(output, slug, sorted(p.name for p in folder.iterdir()) if folder.is_dir() else [])
    send(settings, addressed(path.read_bytes(), to), to, password, timeout)
    return path


def recipient(text: str) -> str:
    """`text` as one plain address (name@domain), or SendError saying what is wrong with it."""
    found = getaddresses([text])
    if re.search(r"[\r\n]", text) or len(found) != 1 or "," in text or ";" in text:
        raise SendError(f"expected one address like you@clinic.example, got {text!r}")
    _, address = found[0]
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        address = ""
    if not re.fullmatch(r"[^@\s<>()\"]+@[^@\s<>()\"]+\.[^@\s<>()\".]+", address):
        raise SendError(f"expected one address like you@clinic.example, got {text!r}")
    return address


def message_path(output: Path, slug: str, known: list[str]) -> Path:
    """The built message of the article `slug`; SendError naming the built ones when it has none."""
    path = output / "newsletter" / slug / "message.eml"
    if SLUG.fullmatch(slug) and path.is_file():
        return path
    import difflib
    close = difflib.get_close_matches(slug, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else \
        "`pipeline build` lists what it builds; drafts and future-dated articles are built with --drafts, --future"
    raise SendError(f"no article with the slug '{slug}' (output/newsletter/ has none); {hint}")


def addressed(raw: bytes, to: str) -> bytes:
    """The message with one To header, `to`, and no other recipient headers, in SMTP's CRLF form."""
    message = BytesParser(policy=policy.SMTP).parsebytes(raw)
    for header in ("To", "Cc", "Bcc"):
        del message[header]
    message["To"] = to
    return message.as_bytes(policy=policy.SMTP)


def send(settings: SmtpConfig, message: bytes, to: str, password: str | None, timeout: float) -> None:
    """Deliver `message` to `to` alone (envelope sender: its From address). SendError on failure."""
    if settings.username and password is None:
        raise SendError(f"newsletter.smtp.username is set but the password is not: set the environment variable "
                        f"{PASSWORD_VARIABLE} (it is never read from a file)")
    sender = parseaddr(str(BytesParser(policy=policy.SMTP).parsebytes(message, headersonly=True)["From"]))[1]
    where = f"{settings.host}:{settings.port}"
    client = None
    try:
        if settings.security == "ssl":   # connects as it is made (its TLS needs the host's name)
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(timeout=timeout)
            client.connect(settings.host, settings.port)
        if settings.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.username:
            client.login(settings.username, password)
        client.sendmail(sender, [to], message)   # with one recipient, a refusal raises
        _quit(client)   # the server has accepted the message: a failure from here on loses nothing
    except (socket.timeout, TimeoutError):
        raise _timed_out(where, timeout) from None
    except ConnectionRefusedError:
        raise SendError(f"cannot connect to {where}: connection refused; check newsletter.smtp.host and port in "
                        f"content/site.yaml") from None
    except socket.gaierror:
        raise SendError(f"cannot find the SMTP server '{settings.host}'; check newsletter.smtp.host in "
                        f"content/site.yaml") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"{where} refused the login for '{settings.username}' ({_reply(exc)}); check "
                        f"newsletter.smtp.username and {PASSWORD_VARIABLE}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError(f"{where} does not support this: {exc}; check newsletter.smtp.security (and username: "
                        f"remove it if the server takes no login)") from None
    except smtplib.SMTPRecipientsRefused as exc:
        reply = next(iter(exc.recipients.values()), (0, b""))
        raise SendError(f"{where} refused the recipient {to} ({_reply(reply)}); nothing was sent") from None
    except smtplib.SMTPSenderRefused as exc:
        raise SendError(f"{where} refused the sender {sender} ({_reply(exc)}); nothing was sent; check "
                        f"newsletter.from in content/site.yaml") from None
    except smtplib.SMTPDataError as exc:
        raise SendError(f"{where} refused the message ({_reply(exc)}); nothing was sent") from None
    except smtplib.SMTPServerDisconnected as exc:
        if isinstance(exc.__context__, (socket.timeout, TimeoutError)):   # smtplib's word for a reply timed out
            raise _timed_out(where, timeout) from None
        raise SendError(f"{where} closed the connection ({exc or 'no reason given'}); nothing was sent; check "
                        f"newsletter.smtp.security and port") from None
    except smtplib.SMTPException as exc:
        raise SendError(f"{where}: {_reply(exc)}; nothing was sent") from None
    except ssl.SSLError as exc:
        raise SendError(f"TLS with {where} failed ({exc.reason or exc}); check newsletter.smtp.security: ssl "
                        f"(usually port 465) or starttls (usually port 587)") from None
    except OSError as exc:
        raise SendError(f"cannot talk to {where}: {exc.strerror or exc}") from None
    finally:
        if client is not None:
            client.close()


def _timed_out(where: str, timeout: float) -> SendError:
    return SendError(f"{where} did not answer within {timeout:g} s; check newsletter.smtp.host, port and security "
                     f"in content/site.yaml (a server expecting ssl waits silently for starttls), or pass a longer "
                     f"--timeout")


def _reply(exc) -> str:
    """'535 Authentication credentials invalid' from an SMTP error or a (code, text) pair."""
    code, text = (exc if isinstance(exc, tuple) else (getattr(exc, "smtp_code", None), getattr(exc, "smtp_error", exc)))
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return " ".join(f"{code or ''} {text}".split())


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
