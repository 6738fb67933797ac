// Beast's SSL stream as the HTTP session and the WebSocket connection share it. Only the
// translation units that need Beast include this (http_session.cpp, tls.cpp).
#pragma once

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "net/tls.hpp"

namespace plexus::net {

/// TLS over a TCP stream whose expiry enforces the handshake timeout.
using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

struct tls_transport::impl {
  explicit impl(tls_stream&& s) : stream(std::move(s)) {
  }
  tls_stream stream;
};

} // namespace plexus::net
