// The TLS path of ws_connection: reads and writes through the SSL stream of a
// tls_transport. Same queues and state machine as the plain path in ws_connection.cpp.
#include <boost/system/error_code.hpp>

#include "net/tls.hpp"
#include "net/ws_connection.hpp"

namespace plexus::net {

namespace {

/// Frames coalesced into one TLS write: a few records, bounded so one connection's burst
/// does not hold a large buffer.
constexpr std::size_t tls_write_chunk = 64 * 1024;

} // namespace

void ws_connection::read_tls() {
  tls_->async_read_some(
    tls_->in.data(), tls_->in.size(),
    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
      if (self->state_ == state::closed) {
        return;
      }
      if (ec || n == 0) {
        self->finish_close(); // EOF, reset or a TLS alert
        return;
      }
      self->last_rx_ = std::chrono::steady_clock::now();
      self->ping_outstanding_ = false;
      if (!self->reader_.finished()) {
        self->reader_.feed(self->tls_->in.data(), n, *self);
      }
      if (self->state_ != state::closed) {
        self->read_tls();
      }
    });
}

bool ws_connection::write_tls() {
  if (tls_->batch_done) {
    tls_->batch_done = false;
    tls_->next = 0;
    return true;
  }
  // The frames are copied next to their headers: SSL_write encrypts one contiguous buffer
  // into records anyway, and the copy frees the write from the frames' lifetimes.
  tls_->out.clear();
  while (tls_->next < writing_.size() && tls_->out.size() < tls_write_chunk) {
    const auto& item = writing_[tls_->next++];
    if (item.raw) {
      tls_->out += item.f->json;
      continue;
    }
    bool compressed = false;
    const std::string* payload = &item.f->json;
    if (item.op == ws::opcode::text || item.op == ws::opcode::binary) {
      payload = &item.f->payload_for(format_, deflate(), compressed);
    }
    uint8_t header[ws::max_server_header];
    auto hlen = ws::write_header(header, item.op, true, compressed, payload->size());
    tls_->out.append(reinterpret_cast<const char*>(header), hlen);
    tls_->out += *payload;
  }
  write_waiting_ = true;
  tls_->async_write(
    reinterpret_cast<const uint8_t*>(tls_->out.data()), tls_->out.size(),
    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
      self->write_waiting_ = false;
      if (self->state_ == state::closed) {
        return;
      }
      if (ec) {
        self->finish_close();
        return;
      }
      self->count_out(n);
      if (self->tls_->next >= self->writing_.size()) {
        self->tls_->batch_done = true;
      }
      self->flush();
    });
  return false;
}

} // namespace plexus::net
