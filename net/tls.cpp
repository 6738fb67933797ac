#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

#include <boost/asio/write.hpp>

#include "net/tls_stream.hpp"

namespace plexus::net {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

std::string describe(const boost::system::error_code& ec) {
  // OpenSSL's own reason ("no start line", "key values mismatch") says more than errno.
  auto err = ERR_peek_last_error();
  ERR_clear_error();
  if (err != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    return buf;
  }
  return ec.message();
}

} // namespace

std::unique_ptr<ssl::context> make_tls_context(const tls_settings& settings) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  auto* native = ctx->native_handle();
  // TLS 1.0/1.1 are deprecated (RFC 8996); every browser speaks 1.2 and 1.3.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression
                   | ssl::context::single_dh_use);
  // Idle WebSocket connections are the common case: free the ~34 KB of read/write buffers
  // OpenSSL keeps per connection while nothing is in flight.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  ERR_clear_error();
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(settings.cert_file, ec);
  if (ec) {
    throw std::runtime_error("tls.cert_file: cannot load the certificate chain from '"
                             + settings.cert_file + "': " + describe(ec));
  }
  ctx->use_private_key_file(settings.key_file, ssl::context::pem, ec);
  if (ec) {
    throw std::runtime_error("tls.key_file: cannot load the private key from '" + settings.key_file
                             + "': " + describe(ec));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    throw std::runtime_error("tls.key_file: the key in '" + settings.key_file
                             + "' does not match the certificate in tls.cert_file ('"
                             + settings.cert_file + "')");
  }
  return ctx;
}

tls_transport::tls_transport(std::unique_ptr<impl> p) : impl_(std::move(p)) {
}

tls_transport::~tls_transport() = default;

void tls_transport::async_read_some(uint8_t* data, std::size_t size, handler h) {
  impl_->stream.async_read_some(asio::buffer(data, size), std::move(h));
}

void tls_transport::async_write(const uint8_t* data, std::size_t size, handler h) {
  asio::async_write(impl_->stream, asio::buffer(data, size), std::move(h));
}

void tls_transport::set_no_delay() {
  boost::system::error_code ec;
  boost::beast::get_lowest_layer(impl_->stream)
    .socket()
    .set_option(asio::ip::tcp::no_delay(true), ec);
}

void tls_transport::close() {
  boost::system::error_code ec;
  auto& lowest = boost::beast::get_lowest_layer(impl_->stream);
  lowest.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  lowest.close();
}

} // namespace plexus::net
