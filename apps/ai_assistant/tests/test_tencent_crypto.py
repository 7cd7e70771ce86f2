"""WeChat/WeCom signature and AES against the published vectors, plus the strict checks."""

import base64
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from apps.ai_assistant.channels.tencent_crypto import (
    InvalidKey,
    MalformedCiphertext,
    ReceiveIdMismatch,
    SignatureMismatch,
    WeChatCrypto,
    aes_key,
    signature,
    signature_matches,
)

VECTORS = json.loads(
    (Path(__file__).parents[1] / "channels" / "fixtures" / "channel_vectors.json").read_text()
)
MP = VECTORS["wechat_mp_safe_mode"]
WECOM_URL = VECTORS["wecom_url_verification"]
WECOM_MSG = VECTORS["wecom_message"]


def mp_crypto():
    return WeChatCrypto(MP["token"], MP["encoding_aes_key"], MP["app_id"])


def wecom_crypto():
    return WeChatCrypto(WECOM_MSG["token"], WECOM_MSG["encoding_aes_key"], WECOM_MSG["corp_id"])


def raw_encrypt(key: bytes, data: bytes) -> str:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def test_plain_signature_matches_vector_v1():
    vector = VECTORS["wechat_mp_plain_signature"]
    expected = signature(vector["token"], vector["timestamp"], vector["nonce"])
    assert expected == vector["signature"]
    assert signature_matches(expected, vector["signature"])
    assert not signature_matches(expected, vector["wrong_signature"])
    assert not signature_matches(expected, "")
    assert not signature_matches(expected, None)


def test_mp_plain_signature_matches_vector_v2():
    assert signature(MP["token"], MP["timestamp"], MP["nonce"]) == MP["signature"]


def test_mp_msg_signature_matches_vector_v3():
    assert (
        signature(MP["token"], MP["timestamp"], MP["nonce"], MP["encrypt"]) == (MP["msg_signature"])
    )


def test_mp_message_decrypts_to_vector_plaintext():
    plaintext = mp_crypto().decrypt_message(
        MP["msg_signature"], MP["timestamp"], MP["nonce"], MP["encrypt"]
    )
    assert plaintext == MP["plaintext"]


def test_mp_encrypt_with_vector_prefix_reproduces_vector_ciphertext():
    assert mp_crypto().encrypt(MP["plaintext"], b"89465c840c5f116f") == MP["encrypt"]


def test_wecom_url_verification_vector_v4():
    crypto = WeChatCrypto(WECOM_URL["token"], WECOM_URL["encoding_aes_key"], WECOM_URL["corp_id"])
    echo = crypto.decrypt_message(
        WECOM_URL["msg_signature"], WECOM_URL["timestamp"], WECOM_URL["nonce"], WECOM_URL["echostr"]
    )
    assert echo == WECOM_URL["response_body"] == "1616140317555161061"


def test_wecom_message_vector_v5():
    plaintext = wecom_crypto().decrypt_message(
        WECOM_MSG["msg_signature"], WECOM_MSG["timestamp"], WECOM_MSG["nonce"], WECOM_MSG["encrypt"]
    )
    assert plaintext == WECOM_MSG["plaintext"]


def test_encrypt_then_decrypt_round_trips_unicode():
    crypto = mp_crypto()
    text = "<xml><Content><![CDATA[NZ-S1.5 库存 😀]]></Content></xml>"
    assert crypto.decrypt(crypto.encrypt(text)) == text


def test_encrypt_uses_a_fresh_random_prefix():
    crypto = mp_crypto()
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_encrypted_reply_envelope_is_signed_and_decryptable():
    crypto = mp_crypto()
    envelope = crypto.encrypt_reply("<xml>hi</xml>", timestamp="1409735669", nonce="42")
    encrypted = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    msg_signature = envelope.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    assert msg_signature == signature(MP["token"], "1409735669", "42", encrypted)
    assert "<TimeStamp>1409735669</TimeStamp>" in envelope
    assert crypto.decrypt_message(msg_signature, "1409735669", "42", encrypted) == "<xml>hi</xml>"


def test_it_rejects_a_wrong_msg_signature():
    with pytest.raises(SignatureMismatch):
        mp_crypto().decrypt_message("0" * 40, MP["timestamp"], MP["nonce"], MP["encrypt"])


def test_it_rejects_a_missing_msg_signature():
    with pytest.raises(SignatureMismatch):
        mp_crypto().decrypt_message(None, MP["timestamp"], MP["nonce"], MP["encrypt"])


def test_it_rejects_a_message_for_another_app():
    crypto = WeChatCrypto(MP["token"], MP["encoding_aes_key"], "wx0000000000000000")
    with pytest.raises(ReceiveIdMismatch):
        crypto.decrypt(MP["encrypt"])


def test_it_rejects_ciphertext_that_is_not_base64():
    with pytest.raises(MalformedCiphertext):
        mp_crypto().decrypt("not*base64!")


def test_it_rejects_truncated_ciphertext():
    with pytest.raises(MalformedCiphertext):
        mp_crypto().decrypt(base64.b64encode(base64.b64decode(MP["encrypt"])[:-5]).decode())


def test_it_rejects_empty_ciphertext():
    with pytest.raises(MalformedCiphertext):
        mp_crypto().decrypt("")


def test_it_rejects_garbled_ciphertext():
    raw = bytearray(base64.b64decode(MP["encrypt"]))
    raw[-1] ^= 0xFF  # corrupts the last block: the padding no longer checks out
    with pytest.raises((MalformedCiphertext, ReceiveIdMismatch)):
        mp_crypto().decrypt(base64.b64encode(bytes(raw)).decode())


def test_it_rejects_a_pad_value_above_32():
    key = aes_key(MP["encoding_aes_key"])
    data = b"r" * 16 + struct.pack(">I", 2) + b"hi" + MP["app_id"].encode()
    data += b"\x00" * (32 - len(data) % 32 - 1) + b"\x21"
    with pytest.raises(MalformedCiphertext, match="padding"):
        mp_crypto().decrypt(raw_encrypt(key, data))


def test_it_rejects_unequal_pad_bytes():
    key = aes_key(MP["encoding_aes_key"])
    data = b"r" * 16 + struct.pack(">I", 2) + b"hi" + MP["app_id"].encode()
    pad = 32 - len(data) % 32
    data += bytes([pad - 1]) * (pad - 1) + bytes([pad])
    with pytest.raises(MalformedCiphertext, match="padding"):
        mp_crypto().decrypt(raw_encrypt(key, data))


def test_it_rejects_a_message_length_beyond_the_data():
    key = aes_key(MP["encoding_aes_key"])
    data = b"r" * 16 + struct.pack(">I", 10_000) + b"hi" + MP["app_id"].encode()
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    with pytest.raises(MalformedCiphertext, match="length"):
        mp_crypto().decrypt(raw_encrypt(key, data))


@pytest.mark.parametrize(
    "bad_key",
    ["short", "a" * 44, "*" * 43, ""],
)
def test_it_rejects_a_bad_encoding_aes_key(bad_key):
    with pytest.raises(InvalidKey):
        WeChatCrypto("t", bad_key, "wx")


def test_error_statuses_map_to_400_and_403():
    assert SignatureMismatch("x").status == 403
    assert ReceiveIdMismatch("x").status == 403
    assert MalformedCiphertext("x").status == 400
