#include "actors/json_text.hpp"

#include <charconv>
#include <cmath>

namespace plexus::actors {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

bool continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

/// Length of the valid UTF-8 sequence starting at `p` (a byte >= 0x80), or 0 when the bytes
/// there are not one (RFC 3629 table: no overlongs, no surrogates, nothing past U+10FFFF).
std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) {
  auto left = static_cast<std::size_t>(end - p);
  unsigned char c = p[0];
  if (c >= 0xC2 && c <= 0xDF) {
    return left >= 2 && continuation(p[1]) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !continuation(p[1]) || !continuation(p[2])) {
      return 0;
    }
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F)) {
      return 0;
    }
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !continuation(p[1]) || !continuation(p[2]) || !continuation(p[3])) {
      return 0;
    }
    if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F)) {
      return 0;
    }
    return 4;
  }
  return 0;
}

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default: {
      char buf[6] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xF]};
      out.append(buf, sizeof(buf));
    }
  }
}

/// Appends the shortest round-trip text of `v` and makes sure it reads back as a float.
template <class Float>
void append_floating(std::string& out, Float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc{}) {
    out += "null";
    return;
  }
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  out += text;
  if (text.find_first_of(".e") == std::string_view::npos) {
    out += ".0";
  }
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  auto* end = p + s.size();
  auto* run = p; // start of the bytes not yet copied verbatim
  auto flush
    = [&] { out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run)); };
  while (p < end) {
    unsigned char c = *p;
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    if (c >= 0x80) {
      if (auto n = utf8_sequence_length(p, end); n > 0) {
        p += n;
        continue;
      }
      flush();
      out += "\xEF\xBF\xBD";
    } else {
      flush();
      append_escape(out, c);
    }
    ++p;
    run = p;
  }
  flush();
  out.push_back('"');
}

void append_json_double(std::string& out, double d) {
  append_floating(out, d);
}

void append_json_float(std::string& out, float f) {
  append_floating(out, f);
}

void append_json_int(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

void append_json_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  out.reserve(out.size() + (n + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    char quad[4]
      = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
    out.append(quad, 4);
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], '=', '='};
    out.append(quad, 4);
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], '='};
    out.append(quad, 4);
  }
}

} // namespace plexus::actors
