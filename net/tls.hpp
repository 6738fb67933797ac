#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/system/error_code.hpp>

#include "net/settings.hpp"

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace plexus::net {

/// The server's TLS context for `[tls]`: TLS 1.2 or newer, the certificate chain of
/// `cert_file` and the key of `key_file`. Built once at start-up; throws
/// std::runtime_error naming `tls.cert_file` or `tls.key_file` when a file cannot be loaded
/// or the key does not match the certificate.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const tls_settings& settings);

/// A TLS connection after the HTTP upgrade, read and written by ws_connection. Keeps
/// Beast's SSL stream out of ws_connection.hpp (included by most of net/), and costs one
/// std::function per read or write, on the TLS path only: the plain path never sees it.
/// Worker thread only: at most one read and one write outstanding at a time.
class tls_transport {
public:
  struct impl;
  using handler = std::function<void(const boost::system::error_code&, std::size_t)>;

  explicit tls_transport(std::unique_ptr<impl> p);
  ~tls_transport();
  tls_transport(const tls_transport&) = delete;
  tls_transport& operator=(const tls_transport&) = delete;

  /// Reads what decrypted bytes are available (at least one) into `data`.
  void async_read_some(uint8_t* data, std::size_t size, handler h);
  /// Writes all of `data`, which must stay valid until `h` runs.
  void async_write(const uint8_t* data, std::size_t size, handler h);
  /// TCP_NODELAY on the socket underneath: frames are small and latency matters.
  void set_no_delay();
  /// Closes the TCP connection (after the WebSocket close handshake, so without waiting
  /// for the peer's close_notify). Pending operations finish with operation_aborted.
  void close();

  // The TLS path's buffers live here rather than in ws_connection, so plain connections
  // (the vast majority) do not carry them.
  std::vector<uint8_t> in; // decrypted bytes of one read
  std::string out;         // frames coalesced for one SSL write
  std::size_t next = 0;    // first item of ws_connection::writing_ not yet in a write
  bool batch_done = false; // every item of writing_ is on the wire

private:
  std::unique_ptr<impl> impl_;
};

} // namespace plexus::net
