#!/usr/bin/env python3
"""Writes the seed corpora of the ws_reader, handshake and token fuzz targets.

    tests/fuzz/make_corpus.py [--rsa-key PEM] [--ec-key PEM]

Each seed is one input in the layout its target's header comment describes. The codec seeds
(corpus/codec_json, codec_msgpack) come from tests/actors/codec_random_test.cpp instead.
RS256/ES256 token seeds are only rewritten when the private keys matching the public keys in
token_fuzz.cpp are given; those keys were discarded after the seeds were made, so without
them the existing rs256_*/es256_* files are kept.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import struct
import subprocess
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
HS256_SECRET = b"plexus-fuzz-hs256-secret-0123456789abcdef"
EXP_2100 = 4102444800
MASK = b"\x37\xfa\x21\x3d"


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- ws_reader ---------------------------------------------------------------------------

TEXT, BINARY, CONT, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10


def frame(op, payload=b"", fin=True, rsv1=False, masked=True, length=None, first=None):
    b0 = first if first is not None else (0x80 if fin else 0) | (0x40 if rsv1 else 0) | op
    n = len(payload) if length is None else length
    m = 0x80 if masked else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n <= 0xFFFF:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    body = bytes(c ^ MASK[i % 4] for i, c in enumerate(payload))
    return head + MASK + body


def close(code, reason=b""):
    return frame(CLOSE, struct.pack(">H", code) + reason)


def deflate(data, wbits=15, final=False):
    c = zlib.compressobj(9, zlib.DEFLATED, -wbits)
    out = c.compress(data) + (c.flush(zlib.Z_FINISH) if final else c.flush(zlib.Z_SYNC_FLUSH))
    return out if final else out[:-4]  # RFC 7692: the 00 00 ff ff tail is removed


def options(deflate_on=False, no_takeover=False, wbits=15, limit_index=6):
    return bytes([(1 if deflate_on else 0) | (2 if no_takeover else 0)
                  | ((wbits - 8) << 2) | (limit_index << 5)])


def reader_seed(name, stream, chunks=None, **opts):
    head = options(**opts)
    head += bytes([0, 0, 0, 0, 0]) if chunks is None else bytes([1] + [c - 1 for c in chunks])
    write("ws_reader", name, head + stream)
    if chunks is None:  # every stream also fed in small pieces
        write("ws_reader", name + "_chunked", options(**opts) + bytes([1, 0, 1, 2, 6]) + stream)


def ws_reader_seeds():
    utf8 = "κόσμε plexus ✓".encode()
    reader_seed("text_hello", frame(TEXT, b"Hello"))
    reader_seed("text_utf8", frame(TEXT, utf8))
    reader_seed("binary_empty_125_126", frame(BINARY) + frame(BINARY, b"b" * 125)
                + frame(BINARY, b"c" * 126))
    reader_seed("text_1000", frame(TEXT, b"t" * 1000), limit_index=4)
    reader_seed("too_big_declared", frame(BINARY, b"", length=65536), limit_index=5)
    reader_seed("length_2pow63", frame(BINARY, b"", length=1 << 63))
    reader_seed("length_2pow64_minus_1", frame(BINARY, b"", length=(1 << 64) - 1))
    reader_seed("fragmented_text_ping_between",
                frame(TEXT, b"frag", fin=False) + frame(PING, b"p") + frame(CONT, b"men", fin=False)
                + frame(CONT, b"ted"))
    reader_seed("fragmented_1_byte",
                b"".join(frame(TEXT if i == 0 else CONT, bytes([c]), fin=(i == 4))
                         for i, c in enumerate(b"abcde")))
    reader_seed("fragmented_utf8_split", frame(TEXT, utf8[:2], fin=False) + frame(CONT, utf8[2:]))
    reader_seed("continuation_without_start", frame(CONT, b"x"))
    reader_seed("text_after_unfinished_text", frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"))
    reader_seed("invalid_utf8", frame(TEXT, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))
    reader_seed("invalid_utf8_fail_fast", frame(TEXT, b"ok\xc0\xaf", fin=False) + frame(CONT, b"rest"))
    reader_seed("ping_pong", frame(PING, b"") + frame(PING, b"x" * 125) + frame(PONG, b"unsolicited"))
    reader_seed("ping_126", frame(PING, b"x" * 126))
    reader_seed("ping_fragmented", frame(PING, b"x", fin=False))
    reader_seed("rsv2", frame(TEXT, b"x", first=0x80 | 0x20 | TEXT))
    reader_seed("rsv1_without_deflate", frame(TEXT, b"x", rsv1=True))
    reader_seed("reserved_opcodes", frame(3, b"") + frame(11, b""))
    reader_seed("unmasked", frame(TEXT, b"x", masked=False))
    reader_seed("close_1000_reason", close(1000, b"bye"))
    reader_seed("close_empty", frame(CLOSE))
    reader_seed("close_1_byte", frame(CLOSE, b"\x03"))
    reader_seed("close_1005", close(1005))
    reader_seed("close_invalid_utf8_reason", close(1000, b"\xff\xfe"))
    reader_seed("close_then_data", close(4000) + frame(TEXT, b"ignored"))
    # permessage-deflate
    reader_seed("deflate_hello", frame(TEXT, deflate(b"Hello, deflate"), rsv1=True), deflate_on=True)
    reader_seed("deflate_uncompressed_too", frame(TEXT, b"plain") + frame(BINARY, deflate(b"\x00" * 300), rsv1=True),
                deflate_on=True)
    reader_seed("deflate_fragmented",
                frame(TEXT, deflate(b"fragmented " * 20)[:5], fin=False, rsv1=True)
                + frame(CONT, deflate(b"fragmented " * 20)[5:]), deflate_on=True)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    m1 = c.compress(b"context takeover " * 4) + c.flush(zlib.Z_SYNC_FLUSH)
    m2 = c.compress(b"context takeover " * 4) + c.flush(zlib.Z_SYNC_FLUSH)
    reader_seed("deflate_context_takeover",
                frame(TEXT, m1[:-4], rsv1=True) + frame(TEXT, m2[:-4], rsv1=True), deflate_on=True)
    reader_seed("deflate_no_context_takeover_w9",
                frame(TEXT, deflate(b"window nine " * 10, wbits=9), rsv1=True)
                + frame(TEXT, deflate(b"again " * 10, wbits=9), rsv1=True),
                deflate_on=True, no_takeover=True, wbits=9)
    reader_seed("deflate_bfinal", frame(BINARY, deflate(b"final block", final=True), rsv1=True),
                deflate_on=True)
    reader_seed("deflate_bomb", frame(BINARY, deflate(b"\x00" * (4 << 20)), rsv1=True), deflate_on=True)
    reader_seed("deflate_bomb_small_limit", frame(TEXT, deflate(b"a" * 5000), rsv1=True),
                deflate_on=True, limit_index=4)
    reader_seed("deflate_corrupt", frame(TEXT, b"\xff\xff\xff\xff", rsv1=True), deflate_on=True)
    reader_seed("deflate_invalid_utf8", frame(TEXT, deflate(b"ok \xed\xa0\x80"), rsv1=True),
                deflate_on=True)
    reader_seed("deflate_rsv1_on_continuation",
                frame(TEXT, b"a", fin=False) + frame(CONT, b"b", rsv1=True), deflate_on=True)
    reader_seed("deflate_rsv1_on_ping", frame(PING, b"", rsv1=True), deflate_on=True)
    reader_seed("chunks_1_2_3_4", frame(TEXT, b"chunked text message") + close(1000),
                chunks=[1, 2, 3, 4])


# --- handshake ---------------------------------------------------------------------------

def handshake_seeds():
    offers = {
        "deflate_plain": "permessage-deflate",
        "deflate_browser": "permessage-deflate; client_max_window_bits",
        "deflate_all": "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
                       " server_max_window_bits=15; client_max_window_bits=9",
        "deflate_quoted": 'permessage-deflate; client_max_window_bits="10"',
        "deflate_declined_then_ok": "permessage-deflate; server_max_window_bits=10, permessage-deflate",
        "deflate_unknown_param": "permessage-deflate; foo=bar, x-webkit-deflate-frame",
        "deflate_duplicate": "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "deflate_bad_bits": "permessage-deflate; client_max_window_bits=08",
        "deflate_unterminated_quote": 'permessage-deflate; client_max_window_bits="1',
    }
    for name, text in offers.items():
        write("handshake", name, b"\x00" + text.encode())
    protocols = {
        "proto_json": "plexus.json",
        "proto_both": "chat, plexus.msgpack , plexus.json",
        "proto_quoted": '"plexus.json", other',
        "proto_none": "graphql-ws",
    }
    for name, text in protocols.items():
        write("handshake", name, b"\x01" + text.encode())
    keys = {
        "key_rfc": "dGhlIHNhbXBsZSBub25jZQ==",
        "key_short": "dGhlIHNhbXBsZQ==",
        "key_bad_char": "dGhlIHNhbXBsZSBub25jZ*==",
    }
    for name, text in keys.items():
        write("handshake", name, b"\x02" + text.encode())
    write("handshake", "all_three", b"\x03permessage-deflate, plexus.json")


# --- token -------------------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def claims(**extra):
    c = {"sub": "fuzz-user", "exp": EXP_2100}
    c.update(extra)
    return json.dumps(c, separators=(",", ":")).encode()


def signing_input(alg, body):
    return b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode()) + b"." \
        + b64url(body)


def hs256(body):
    s = signing_input("HS256", body)
    return s + b"." + b64url(hmac.new(HS256_SECRET, s, hashlib.sha256).digest())


def openssl_sign(key, data):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key, f.name],
                              check=True, capture_output=True).stdout


def der_ecdsa_to_raw(der):
    # SEQUENCE { INTEGER r, INTEGER s } -> r || s, 32 bytes each (JWS ES256)
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\x00")
        out += v.rjust(32, b"\x00")
        i += 2 + n
    return out


def token_seeds(rsa_key, ec_key):
    def seed(name, mode, data):
        write("token", name, bytes([mode]) + data)

    seed("hs256_valid", 0, hs256(claims()))
    seed("hs256_channels_meta", 0, hs256(claims(channels=["room:*", "user:fuzz-user"],
                                                publish=["room:lobby"], meta={"name": "F"})))
    seed("hs256_expired", 0, hs256(claims(exp=1000000000)))
    seed("hs256_no_sub", 0, hs256(json.dumps({"exp": EXP_2100}).encode()))
    seed("hs256_nbf_future", 0, hs256(claims(nbf=EXP_2100)))
    seed("hs256_bad_channels", 0, hs256(claims(channels="room:*")))
    seed("hs256_forged", 0, hs256(claims())[:-4] + b"AAAA")
    seed("alg_none", 0, signing_input("none", claims()) + b".")
    seed("hs256_on_rs256_node", 1, hs256(claims()))
    seed("not_a_token", 0, b"abc.def")
    seed("padding", 0, hs256(claims()) + b"==")
    seed("claims_valid", 3, claims())
    seed("claims_meta_deep", 3, claims(meta={"a": {"b": [1, 2.5, None, True, "x"]}}))
    seed("claims_exp_string", 3, claims(exp="2100"))
    seed("claims_exp_huge", 3, b'{"sub":"u","exp":1e308}')
    seed("claims_not_object", 3, b'["sub","exp"]')
    seed("claims_invalid_json", 3, b'{"sub":"u","exp":')
    if rsa_key:
        s = signing_input("RS256", claims())
        seed("rs256_valid", 1, s + b"." + b64url(openssl_sign(rsa_key, s)))
        seed("rs256_on_es256_node", 2, s + b"." + b64url(openssl_sign(rsa_key, s)))
    if ec_key:
        s = signing_input("ES256", claims(meta={"k": "v"}))
        seed("es256_valid", 2, s + b"." + b64url(der_ecdsa_to_raw(openssl_sign(ec_key, s))))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rsa-key", help="RSA private key matching token_fuzz.cpp's RS256 key")
    p.add_argument("--ec-key", help="P-256 private key matching token_fuzz.cpp's ES256 key")
    a = p.parse_args()
    ws_reader_seeds()
    handshake_seeds()
    token_seeds(a.rsa_key, a.ec_key)


if __name__ == "__main__":
    main()
