"""WeChat / WeCom message signing and encryption (WXBizMsgCrypt), written out in full.

Signature: sha1 of the sorted, concatenated parts, lowercase hex (docs/channels.md §1.1, §1.4).
Encryption: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = key[:16];
plaintext = random(16) ‖ len(msg) (4 bytes, big-endian) ‖ msg ‖ receive_id, PKCS#7 padded
to 32-byte blocks. receive_id is the AppID (Official Account) or the CorpID (WeCom app).

Stricter than the vendor samples: constant-time compares, pad value and bytes checked,
length bound-checked, receive_id must match. Each failure is a `CryptoError` subclass whose
`status` says how the webhook answers (403 for a bad proof, 400 for garbled input).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_SIZE = 32


class CryptoError(Exception):
    status = 400

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InvalidKey(CryptoError):
    # The app's EncodingAESKey is misconfigured: refuse, the platform cannot fix it by retrying.
    status = 403


class SignatureMismatch(CryptoError):
    status = 403


class ReceiveIdMismatch(CryptoError):
    status = 403


class MalformedCiphertext(CryptoError):
    status = 400


def signature(*parts: str) -> str:
    """sha1("".join(sorted(parts))) as lowercase hex."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324


def signature_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a computed signature with the one received."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("utf-8"))


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey; InvalidKey otherwise."""
    if not isinstance(encoding_aes_key, str) or len(encoding_aes_key) != 43:
        raise InvalidKey("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidKey("EncodingAESKey is not base64") from error
    if len(key) != 32:
        raise InvalidKey("EncodingAESKey must decode to 32 bytes")
    return key


class WeChatCrypto:
    """Sign, verify, encrypt and decrypt for one app (token, EncodingAESKey, receive_id)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        self.token = token
        self.key = aes_key(encoding_aes_key)
        self.receive_id = receive_id

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def check_signature(self, msg_signature: str | None, timestamp: str, nonce: str, data: str):
        """Raise SignatureMismatch unless msg_signature signs (token, timestamp, nonce, data)."""
        if not signature_matches(signature(self.token, timestamp, nonce, data), msg_signature):
            raise SignatureMismatch("bad msg_signature")

    def encrypt(self, plaintext: str, random_prefix: bytes | None = None) -> str:
        """Base64 ciphertext of `plaintext` for this app; `random_prefix` only for tests."""
        prefix = os.urandom(16) if random_prefix is None else random_prefix
        if len(prefix) != 16:
            raise ValueError("random_prefix must be 16 bytes")
        message = plaintext.encode("utf-8")
        data = prefix + struct.pack(">I", len(message)) + message + self.receive_id.encode()
        pad = BLOCK_SIZE - len(data) % BLOCK_SIZE
        data += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The message inside `encrypted`, after checking padding, length and receive_id."""
        try:
            ciphertext = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as error:
            raise MalformedCiphertext("ciphertext is not base64") from error
        if not ciphertext or len(ciphertext) % 16:
            raise MalformedCiphertext("ciphertext length is not a multiple of 16")
        decryptor = self._cipher().decryptor()
        data = decryptor.update(ciphertext) + decryptor.finalize()
        pad = data[-1]
        if not 1 <= pad <= BLOCK_SIZE or len(data) < pad or data[-pad:] != bytes([pad]) * pad:
            raise MalformedCiphertext("bad padding")
        data = data[:-pad]
        if len(data) < 20:
            raise MalformedCiphertext("plaintext too short")
        (length,) = struct.unpack(">I", data[16:20])
        if length > len(data) - 20:
            raise MalformedCiphertext("message length out of range")
        message = data[20 : 20 + length]
        receive_id = data[20 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise ReceiveIdMismatch("message is for another app")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedCiphertext("message is not UTF-8") from error

    def decrypt_message(self, msg_signature: str | None, timestamp: str, nonce: str, encrypted):
        """Verify msg_signature over `encrypted`, then decrypt it."""
        self.check_signature(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def encrypt_reply(
        self,
        reply_xml: str,
        timestamp: str | None = None,
        nonce: str | None = None,
        random_prefix: bytes | None = None,
    ) -> str:
        """The encrypted passive-reply envelope for `reply_xml` (the format wechatpy emits)."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        encrypted = self.encrypt(reply_xml, random_prefix)
        msg_signature = signature(self.token, timestamp, nonce, encrypted)
        return (
            "<xml>\n"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt>\n"
            f"<MsgSignature><![CDATA[{msg_signature}]]></MsgSignature>\n"
            f"<TimeStamp>{timestamp}</TimeStamp>\n"
            f"<Nonce><![CDATA[{nonce}]]></Nonce>\n"
            "</xml>"
        )
