// libFuzzer target for the upgrade request's header parsers (net/handshake.cpp), which see
// every client's headers before anything is authenticated.
//
// Input layout: byte 0 selects the function (value % 4), the rest is the header value:
//   0  negotiate_deflate(Sec-WebSocket-Extensions)
//   1  choose_subprotocol(Sec-WebSocket-Protocol, {"plexus.json", "plexus.msgpack"})
//   2  valid_client_key(Sec-WebSocket-Key) and accept_key()
//   3  all three on the same text
//
// Oracles (a violation aborts):
// - an agreement's client window is 8..15, and its response is itself an offer that
//   negotiate_deflate accepts with the same parameters (what we answer is well-formed);
// - a chosen subprotocol is one we support and appears in the header;
// - a valid key is 22 base64 characters and "=="; accept_key always gives 28 characters.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/handshake.hpp"

namespace {

namespace ws = plexus::net::ws;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "handshake_fuzz: %s\n", what);
    std::abort();
  }
}

void deflate_offer(std::string_view header) {
  auto a = ws::negotiate_deflate(header);
  if (!a) {
    return;
  }
  check(a->client_max_window_bits >= 8 && a->client_max_window_bits <= 15,
        "client window bits outside 8..15");
  check(a->response.rfind("permessage-deflate", 0) == 0, "response names another extension");
  auto again = ws::negotiate_deflate(a->response);
  check(again.has_value(), "our own response is not a valid offer");
  check(again->client_no_context_takeover == a->client_no_context_takeover
          && again->client_max_window_bits == a->client_max_window_bits
          && again->response == a->response,
        "our response does not negotiate to the same agreement");
}

void subprotocol(std::string_view header) {
  static const std::vector<std::string> supported{"plexus.json", "plexus.msgpack"};
  auto chosen = ws::choose_subprotocol(header, supported);
  if (!chosen) {
    return;
  }
  check(*chosen == supported[0] || *chosen == supported[1], "chose an unsupported protocol");
  check(header.find(*chosen) != std::string_view::npos, "chose a protocol not in the header");
}

void client_key(std::string_view key) {
  if (ws::valid_client_key(key)) {
    check(key.size() == 24 && key.substr(22) == "==", "accepted a key of the wrong shape");
  }
  check(ws::accept_key(key).size() == 28, "accept key is not 28 characters");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      deflate_offer(text);
      break;
    case 1:
      subprotocol(text);
      break;
    case 2:
      client_key(text);
      break;
    default:
      deflate_offer(text);
      subprotocol(text);
      client_key(text);
      break;
  }
  return 0;
}
