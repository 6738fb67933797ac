// plexus-msgpack.js: the msgpack codec of plexus.js (subprotocol plexus.msgpack). A plain ES
// module, no dependencies. Frames are maps with the same fields as the JSON ones
// (docs/protocol.md); application values (`data`, `meta`) are any msgpack value.
//
// Types: nil <-> null (undefined encodes as nil), booleans, integers (Number when safe,
// BigInt beyond 2^53; BigInt encodes as a 64-bit integer), float 32/64 -> Number (a
// non-integer Number encodes as float 64), str <-> string, bin <-> Uint8Array (an
// ArrayBuffer or typed array encodes as bin), array <-> Array, map <-> plain object
// (keys as strings). Extension types are refused: plexus never sends them.

/** Thrown by decode() for bytes that are not one well-formed msgpack value. */
export class MsgpackError extends Error {
  constructor(message) {
    super(message);
    this.name = 'MsgpackError';
  }
}

// Deeper than this is refused (the server refuses more than 32 levels of nesting too).
const MAX_DEPTH = 64;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

class Writer {
  constructor() {
    this.buf = new Uint8Array(256);
    this.view = new DataView(this.buf.buffer);
    this.len = 0;
  }

  reserve(n) {
    if (this.len + n <= this.buf.length) {
      return;
    }
    let size = this.buf.length * 2;
    while (size < this.len + n) {
      size *= 2;
    }
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v) {
    this.reserve(1);
    this.buf[this.len++] = v;
  }

  head(tag, bytes, v) {
    this.reserve(1 + bytes);
    this.buf[this.len++] = tag;
    if (bytes === 1) this.view.setUint8(this.len, v);
    else if (bytes === 2) this.view.setUint16(this.len, v);
    else if (bytes === 4) this.view.setUint32(this.len, v);
    else if (bytes === 8) this.view.setBigUint64(this.len, BigInt.asUintN(64, BigInt(v)));
    this.len += bytes;
  }

  bytes(b) {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  // A length header of a str/bin/array/map: `fix` is the fix-form tag (or null), `tags`
  // the 8/16/32-bit tags (8-bit null when the type has none).
  length(n, fix, fixMax, tags) {
    if (fix != null && n <= fixMax) this.u8(fix | n);
    else if (tags[0] != null && n < 0x100) this.head(tags[0], 1, n);
    else if (n < 0x10000) this.head(tags[1], 2, n);
    else this.head(tags[2], 4, n);
  }

  int(v) {
    if (v >= 0) {
      if (v < 0x80) this.u8(v);
      else if (v < 0x100) this.head(0xcc, 1, v);
      else if (v < 0x10000) this.head(0xcd, 2, v);
      else if (v < 0x100000000) this.head(0xce, 4, v);
      else this.head(0xcf, 8, v);
    } else if (v >= -32) {
      this.u8(v & 0xff);
    } else if (v >= -0x80) {
      this.reserve(2);
      this.buf[this.len++] = 0xd0;
      this.view.setInt8(this.len++, v);
    } else if (v >= -0x8000) {
      this.reserve(3);
      this.buf[this.len++] = 0xd1;
      this.view.setInt16(this.len, v);
      this.len += 2;
    } else if (v >= -0x80000000) {
      this.reserve(5);
      this.buf[this.len++] = 0xd2;
      this.view.setInt32(this.len, v);
      this.len += 4;
    } else {
      this.reserve(9);
      this.buf[this.len++] = 0xd3;
      this.view.setBigInt64(this.len, BigInt(v));
      this.len += 8;
    }
  }

  value(v, depth) {
    if (depth > MAX_DEPTH) {
      throw new MsgpackError(`nesting deeper than ${MAX_DEPTH} levels`);
    }
    if (v === null || v === undefined) {
      this.u8(0xc0);
    } else if (v === false || v === true) {
      this.u8(v ? 0xc3 : 0xc2);
    } else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) {
        this.int(v);
      } else {
        this.reserve(9);
        this.buf[this.len++] = 0xcb;
        this.view.setFloat64(this.len, v);
        this.len += 8;
      }
    } else if (typeof v === 'bigint') {
      if (v < -(2n ** 63n) || v >= 2n ** 64n) {
        throw new MsgpackError('integer out of the 64-bit range');
      }
      if (v >= 0n) this.head(0xcf, 8, v);
      else {
        this.reserve(9);
        this.buf[this.len++] = 0xd3;
        this.view.setBigInt64(this.len, v);
        this.len += 8;
      }
    } else if (typeof v === 'string') {
      const b = utf8.encode(v);
      this.length(b.length, 0xa0, 31, [0xd9, 0xda, 0xdb]);
      this.bytes(b);
    } else if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
      const b = v instanceof ArrayBuffer ? new Uint8Array(v)
        : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      this.length(b.length, null, 0, [0xc4, 0xc5, 0xc6]);
      this.bytes(b);
    } else if (Array.isArray(v)) {
      this.length(v.length, 0x90, 15, [null, 0xdc, 0xdd]);
      for (const item of v) {
        this.value(item, depth + 1);
      }
    } else if (typeof v === 'object') {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined);
      this.length(keys.length, 0x80, 15, [null, 0xde, 0xdf]);
      for (const k of keys) {
        this.value(k, depth + 1);
        this.value(v[k], depth + 1);
      }
    } else {
      throw new MsgpackError(`cannot encode a ${typeof v}`);
    }
  }
}

/** One value as msgpack bytes. Throws MsgpackError for what msgpack cannot carry
 *  (functions, symbols, integers beyond 64 bits, nesting deeper than 64 levels). */
export function encode(value) {
  const w = new Writer();
  w.value(value, 0);
  return w.buf.slice(0, w.len);
}

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  need(n) {
    if (this.pos + n > this.b.length) {
      throw new MsgpackError('truncated msgpack value');
    }
  }

  uint(bytes) {
    this.need(bytes);
    const p = this.pos;
    this.pos += bytes;
    if (bytes === 1) return this.view.getUint8(p);
    if (bytes === 2) return this.view.getUint16(p);
    if (bytes === 4) return this.view.getUint32(p);
    const big = this.view.getBigUint64(p);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  int(bytes) {
    this.need(bytes);
    const p = this.pos;
    this.pos += bytes;
    if (bytes === 1) return this.view.getInt8(p);
    if (bytes === 2) return this.view.getInt16(p);
    if (bytes === 4) return this.view.getInt32(p);
    const big = this.view.getBigInt64(p);
    const safe = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER);
    return safe ? Number(big) : big;
  }

  str(n) {
    this.need(n);
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return fromUtf8.decode(s);
    } catch (e) {
      throw new MsgpackError('invalid UTF-8 in a msgpack string');
    }
  }

  bin(n) {
    this.need(n);
    const out = this.b.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  array(n, depth) {
    // Every element takes at least one byte: a forged length cannot make us allocate.
    this.need(n);
    const out = new Array(n);
    for (let i = 0; i < n; i += 1) {
      out[i] = this.value(depth + 1);
    }
    return out;
  }

  map(n, depth) {
    this.need(2 * n);
    const out = {};
    for (let i = 0; i < n; i += 1) {
      const k = this.value(depth + 1);
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint') {
        throw new MsgpackError('map key is not a string or an integer');
      }
      const v = this.value(depth + 1);
      if (k === '__proto__') {
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true,
          configurable: true });
      } else {
        out[k] = v;
      }
    }
    return out;
  }

  value(depth) {
    if (depth > MAX_DEPTH) {
      throw new MsgpackError(`nesting deeper than ${MAX_DEPTH} levels`);
    }
    const t = this.uint(1);
    if (t < 0x80) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t >= 0xa0 && t <= 0xbf) return this.str(t & 0x1f);
    if (t >= 0x90 && t <= 0x9f) return this.array(t & 0x0f, depth);
    if (t >= 0x80 && t <= 0x8f) return this.map(t & 0x0f, depth);
    switch (t) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.uint(1));
      case 0xc5: return this.bin(this.uint(2));
      case 0xc6: return this.bin(this.uint(4));
      case 0xca: this.need(4); this.pos += 4; return this.view.getFloat32(this.pos - 4);
      case 0xcb: this.need(8); this.pos += 8; return this.view.getFloat64(this.pos - 8);
      case 0xcc: return this.uint(1);
      case 0xcd: return this.uint(2);
      case 0xce: return this.uint(4);
      case 0xcf: return this.uint(8);
      case 0xd0: return this.int(1);
      case 0xd1: return this.int(2);
      case 0xd2: return this.int(4);
      case 0xd3: return this.int(8);
      case 0xd9: return this.str(this.uint(1));
      case 0xda: return this.str(this.uint(2));
      case 0xdb: return this.str(this.uint(4));
      case 0xdc: return this.array(this.uint(2), depth);
      case 0xdd: return this.array(this.uint(4), depth);
      case 0xde: return this.map(this.uint(2), depth);
      case 0xdf: return this.map(this.uint(4), depth);
      default:
        throw new MsgpackError(`unsupported msgpack type 0x${t.toString(16)}`);
    }
  }
}

/** The one msgpack value in `bytes` (Uint8Array or ArrayBuffer). Throws MsgpackError when
 *  the bytes are truncated, malformed, hold an extension type or trailing bytes. */
export function decode(bytes) {
  const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  const r = new Reader(b);
  const v = r.value(0);
  if (r.pos !== b.length) {
    throw new MsgpackError(`${b.length - r.pos} trailing byte(s) after the msgpack value`);
  }
  return v;
}
