#include "net/utf8.hpp"

#include <array>
#include <cstring>

namespace plexus::net {

namespace {

// A DFA in the style of Bjoern Hoehrmann's decoder: bytes map to 12 classes, and a state
// is stored premultiplied by the class count so one table lookup gives the next state.
// Unlike a decoder that checks at the end, every transition into `reject` is reported at
// once, which is what lets a WebSocket close a bad text message on its first bad byte.
//
// Classes: what a byte may be in a well-formed sequence (RFC 3629 table 3.7).
enum byte_class : uint8_t {
  ascii,   // 00..7F
  cont_8x, // 80..8F
  cont_9x, // 90..9F
  cont_ab, // A0..BF
  lead2,   // C2..DF
  lead_e0, // E0: second byte A0..BF (no overlongs)
  lead3,   // E1..EC, EE..EF
  lead_ed, // ED: second byte 80..9F (no surrogates)
  lead_f0, // F0: second byte 90..BF (no overlongs)
  lead4,   // F1..F3
  lead_f4, // F4: second byte 80..8F (nothing above U+10FFFF)
  never,   // C0, C1, F5..FF
  class_count
};

// States, premultiplied by class_count.
enum state : uint8_t {
  accept = 0,
  reject = 1 * class_count,
  need1 = 2 * class_count,
  need2 = 3 * class_count,
  need3 = 4 * class_count,
  after_e0 = 5 * class_count,
  after_ed = 6 * class_count,
  after_f0 = 7 * class_count,
  after_f4 = 8 * class_count,
  state_end = 9 * class_count
};

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> c{};
  for (int b = 0; b < 256; ++b) {
    uint8_t k = never;
    if (b <= 0x7F) {
      k = ascii;
    } else if (b <= 0x8F) {
      k = cont_8x;
    } else if (b <= 0x9F) {
      k = cont_9x;
    } else if (b <= 0xBF) {
      k = cont_ab;
    } else if (b >= 0xC2 && b <= 0xDF) {
      k = lead2;
    } else if (b == 0xE0) {
      k = lead_e0;
    } else if (b == 0xED) {
      k = lead_ed;
    } else if (b >= 0xE1 && b <= 0xEF) {
      k = lead3;
    } else if (b == 0xF0) {
      k = lead_f0;
    } else if (b >= 0xF1 && b <= 0xF3) {
      k = lead4;
    } else if (b == 0xF4) {
      k = lead_f4;
    }
    c[b] = k;
  }
  return c;
}

constexpr std::array<uint8_t, state_end> make_transitions() {
  std::array<uint8_t, state_end> t{};
  for (auto& x : t) {
    x = reject;
  }
  auto set = [&t](uint8_t from, uint8_t cls, uint8_t to) { t[from + cls] = to; };
  set(accept, ascii, accept);
  set(accept, lead2, need1);
  set(accept, lead_e0, after_e0);
  set(accept, lead3, need2);
  set(accept, lead_ed, after_ed);
  set(accept, lead_f0, after_f0);
  set(accept, lead4, need3);
  set(accept, lead_f4, after_f4);
  for (uint8_t cls : {cont_8x, cont_9x, cont_ab}) {
    set(need1, cls, accept);
    set(need2, cls, need1);
    set(need3, cls, need2);
  }
  set(after_e0, cont_ab, need1);
  set(after_ed, cont_8x, need1);
  set(after_ed, cont_9x, need1);
  set(after_f0, cont_9x, need2);
  set(after_f0, cont_ab, need2);
  set(after_f4, cont_8x, need2);
  return t;
}

constexpr std::array<uint8_t, 256> classes = make_classes();
constexpr std::array<uint8_t, state_end> transitions = make_transitions();

} // namespace

bool utf8_validator::feed(const uint8_t* data, std::size_t n) {
  uint32_t s = state_;
  if (s == reject) {
    return false;
  }
  std::size_t i = 0;
  while (i < n) {
    // Chat text is mostly ASCII: between code points, skip 8 ASCII bytes per step.
    if (s == accept) {
      while (i + 8 <= n) {
        uint64_t word;
        std::memcpy(&word, data + i, 8);
        if ((word & 0x8080808080808080ULL) != 0) {
          break;
        }
        i += 8;
      }
      if (i == n) {
        break;
      }
    }
    s = transitions[s + classes[data[i]]];
    ++i;
    if (s == reject) {
      state_ = s;
      return false;
    }
  }
  state_ = s;
  return true;
}

bool valid_utf8(std::string_view s) {
  utf8_validator v;
  return v.feed(s) && v.complete();
}

} // namespace plexus::net
