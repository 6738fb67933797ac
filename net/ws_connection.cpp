#include "net/ws_connection.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include <boost/asio/post.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/codec.hpp"
#include "actors/deflate.hpp"
#include "actors/messages.hpp"
#include "actors/server_frames.hpp"
#include "net/io_worker.hpp"
#include "net/tls.hpp"

namespace plexus::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

/// How long we wait for the peer's close frame (or EOF) after sending ours.
constexpr auto close_timeout = std::chrono::seconds(2);

/// Payloads up to this size are copied next to their header into one scratch segment;
/// larger ones go out as their own iovec (zero copy).
constexpr std::size_t copy_threshold = 512;

/// Bounds per writev: the kernel takes at most IOV_MAX segments.
constexpr std::size_t max_segments = 1024;
constexpr std::size_t scratch_capacity = 256 * 1024;

/// Reads per readiness event before yielding to other connections on this worker.
constexpr int max_read_rounds = 8;
constexpr std::size_t read_buffer_size = 64 * 1024;

uint8_t* read_buffer() {
  thread_local std::vector<uint8_t> buf(read_buffer_size);
  return buf.data();
}

actors::rejection rejection_for_close(uint16_t code) {
  switch (code) {
    case actors::close_code::invalid_payload:
      return actors::rejection::invalid_utf8;
    case actors::close_code::too_big:
      return actors::rejection::message_too_big;
    default:
      return actors::rejection::protocol_error;
  }
}

} // namespace

ws_connection::ws_connection(tcp::socket socket, io_worker& worker, ws_options opts,
                             std::unique_ptr<tls_transport> tls)
  : worker_(worker),
    env_(opts.env),
    format_(opts.format),
    deflate_(opts.reader.deflate),
    tls_(std::move(tls)),
    opts_(std::move(opts)),
    reader_(opts_.reader),
    limiter_(env_->messages_per_minute),
    last_rx_(clock_type::now()) {
  if (tls_) {
    tls_->set_no_delay();
    tls_->in.resize(tls_read_buffer_size);
  } else {
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    socket.non_blocking(true, ec);
    if (!ec) {
      fd_ = socket.release(ec); // off Asio's reactor: the worker's epoll watches it
    }
    if (ec) {
      fd_ = -1; // start() then finds nothing to watch and closes
    }
  }
  env_->stats->connections.fetch_add(1, std::memory_order_relaxed);
  env_->stats->connections_total.fetch_add(1, std::memory_order_relaxed);
}

ws_connection::~ws_connection() {
  if (fd_ >= 0) {
    ::close(fd_); // never started (start() and finish_close() handle the others)
  }
}

void ws_connection::greet(std::string handshake, actors::frame_ptr welcome) {
  auto f = std::make_shared<actors::frame>();
  f->json = std::move(handshake);
  control_.push_back(out_item{std::move(f), ws::opcode::text, true});
  if (welcome) {
    queue_.push_back(out_item{std::move(welcome), data_opcode(), false});
  }
}

void ws_connection::start(std::string initial, caf::actor session, uint64_t lazy_seed) {
  session_ = std::move(session);
  lazy_seed_ = lazy_seed;
  worker_.attach(shared_from_this());
  flush();
  if (!initial.empty()) {
    reader_.feed(reinterpret_cast<uint8_t*>(initial.data()), initial.size(), *this);
  }
  if (state_ == state::closed) {
    return;
  }
  if (tls_) {
    read_tls();
  } else if (fd_ < 0 || !worker_.watch(this, fd_)) {
    finish_close();
  }
}

// -- inbound ------------------------------------------------------------------------------

void ws_connection::on_events(uint32_t events) {
  if (state_ == state::closed) {
    return;
  }
  if ((events & (EPOLLOUT | EPOLLERR)) != 0 && write_waiting_) {
    write_waiting_ = false;
    flush();
    if (state_ == state::closed) {
      return;
    }
  }
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0) {
    on_readable();
  }
}

void ws_connection::on_readable() {
  auto* buf = read_buffer();
  for (int round = 0; round < max_read_rounds; ++round) {
    auto n = ::recv(fd_, buf, read_buffer_size, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return; // drained: the next arrival is a new edge
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      finish_close(); // EOF or reset: the peer is gone
      return;
    }
    last_rx_ = clock_type::now();
    ping_outstanding_ = false;
    if (!reader_.finished()) {
      reader_.feed(buf, n, *this);
    }
    if (state_ == state::closed) {
      return;
    }
    if (static_cast<std::size_t>(n) < read_buffer_size) {
      return; // a short read emptied the socket: the next arrival is a new edge
    }
  }
  // More is waiting, and edge-triggered readiness will not say so again: read on after the
  // other connections of this worker had their turn.
  asio::post(worker_.context(), [self = shared_from_this()] {
    if (self->state_ != state::closed) {
      self->on_readable();
    }
  });
}

void ws_connection::on_message(bool text, std::string_view payload) {
  if (state_ != state::open) {
    return;
  }
  if (opts_.mode == ws_mode::echo) {
    auto f = std::make_shared<actors::frame>();
    f->json.assign(payload.data(), payload.size());
    if (deflate() && payload.size() >= env_->websocket->compression_min_bytes) {
      f->json_deflated = actors::deflate_message(payload);
    }
    auto size = f->json.size();
    append(out_item{std::move(f), text ? ws::opcode::text : ws::opcode::binary, false}, size);
    return;
  }
  handle_message(text, payload);
}

void ws_connection::handle_message(bool text, std::string_view payload) {
  auto& stats = *env_->stats;
  stats.messages_in_total.fetch_add(1, std::memory_order_relaxed);
  auto own = actors::encodings::only(format_);
  switch (limiter_.take()) {
    case actors::rate_verdict::allow:
      rate_limit_logged_ = false;
      break;
    case actors::rate_verdict::reject:
      stats.reject(actors::rejection::rate_limited);
      if (!rate_limit_logged_) {
        // Once per burst: a flood must not turn into a flood of log lines.
        rate_limit_logged_ = true;
        spdlog::info("[{}] {} rate limited: over {} messages per minute", env_->node_name,
                     opts_.peer, env_->messages_per_minute);
      }
      push(actors::make_error(std::nullopt, actors::errc::rate_limited,
                              "rate limit of " + std::to_string(env_->messages_per_minute)
                                + " messages per minute exceeded",
                              own),
           actors::slow_consumer_policy::disconnect);
      return;
    case actors::rate_verdict::disconnect:
      stats.reject(actors::rejection::rate_limit_close);
      spdlog::info("[{}] {} closed: rate limit exceeded repeatedly", env_->node_name, opts_.peer);
      start_close(actors::close_code::rate_limited, "rate limit exceeded", false);
      return;
  }
  auto fmt = text ? actors::wire_format::json : actors::wire_format::msgpack;
  auto decoded = actors::decode_client_frame(fmt, payload);
  if (auto* err = std::get_if<actors::decode_error>(&decoded)) {
    stats.reject(actors::rejection_for(err->code));
    spdlog::info("[{}] {} frame refused ({}): {}", env_->node_name, opts_.peer,
                 actors::to_string(err->code), err->message);
    push(actors::make_error(err->id, err->code, err->message, own),
         actors::slow_consumer_policy::disconnect);
    return;
  }
  auto& msg = std::get<actors::client_message>(decoded);
  if (std::holds_alternative<actors::ping_request>(msg.body)) {
    // Answered here: an app-level ping needs no actor, only a note to the session now and
    // then that the client is alive (presence heartbeat).
    push(actors::make_pong(msg.id, own), actors::slow_consumer_policy::disconnect);
    auto now = clock_type::now();
    if (session_ && now - last_touch_ >= env_->touch_interval) {
      last_touch_ = now;
      caf::anon_send(session_, actors::heartbeat_atom::value);
    }
    return;
  }
  if (!session_) {
    session_ = env_->spawn_session(shared_from_this(), lazy_seed_);
  }
  last_touch_ = clock_type::now();
  caf::anon_send(session_, std::move(msg));
}

void ws_connection::on_ping(std::string_view payload) {
  queue_control(ws::opcode::pong, std::string{payload});
}

void ws_connection::on_pong(std::string_view) {
  ping_outstanding_ = false;
}

void ws_connection::on_close(uint16_t code, std::string_view) {
  close_received_ = true;
  if (close_sent_) {
    finish_close();
    return;
  }
  // Echo the peer's code (RFC 6455 5.5.1); 1005 means it sent none, so neither do we.
  auto reply = code == 1005 ? std::string{} : ws::close_payload(code, {});
  state_ = state::closing;
  close_deadline_ = clock_type::now() + close_timeout;
  accepting_ = false;
  queue_.clear();
  queued_bytes_ = 0;
  close_after_queue_ = true;
  pending_close_ = std::move(reply);
  flush();
}

void ws_connection::on_protocol_error(uint16_t close_code, std::string_view reason) {
  env_->stats->reject(rejection_for_close(close_code));
  spdlog::info("[{}] {} closed with {}: {}", env_->node_name, opts_.peer, close_code, reason);
  start_close(close_code, std::string{reason}, false);
}

// -- outbound -----------------------------------------------------------------------------

bool ws_connection::push(const actors::frame_ptr& f, actors::slow_consumer_policy policy) {
  if (worker_.in_thread()) {
    return enqueue(f, policy);
  }
  worker_.push_one(f, policy, shared_from_this());
  return true;
}

actors::outbox_sink* ws_connection::sink() const {
  return &worker_;
}

bool ws_connection::enqueue(const actors::frame_ptr& f, actors::slow_consumer_policy policy) {
  if (!accepting_) {
    return false;
  }
  auto size = queued_size(*f);
  auto limit = env_->websocket->send_queue_limit_bytes;
  if (queued_bytes_ + size > limit && !queue_.empty()) {
    using actors::slow_consumer_policy;
    if (!lagging_) {
      lagging_ = true; // counted once per episode; flush() clears it when the queue drains
      env_->stats->slow_consumers_total.fetch_add(1, std::memory_order_relaxed);
    }
    if (policy == slow_consumer_policy::disconnect) {
      accepting_ = false;
      queue_.clear();
      queued_bytes_ = 0;
      close_after_queue_ = true;
      pending_close_ = ws::close_payload(actors::close_code::slow_consumer, "slow consumer");
      worker_.mark_dirty(this);
      return false;
    }
    if (policy == slow_consumer_policy::conflate && f->conflate_key != 0) {
      // Older queued values of this key go; the newest is appended, even past the limit,
      // so the latest value of every key is kept and arrives last. The queue is bounded by
      // the limit plus one frame per subscribed channel.
      auto stale = std::remove_if(queue_.begin(), queue_.end(), [&](const out_item& item) {
        if (item.f->conflate_key != f->conflate_key) {
          return false;
        }
        queued_bytes_ -= queued_size(*item.f);
        return true;
      });
      queue_.erase(stale, queue_.end());
    } else {
      std::size_t drop = 0;
      while (drop < queue_.size() && queued_bytes_ + size > limit) {
        queued_bytes_ -= queued_size(*queue_[drop].f);
        ++drop;
      }
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(drop));
    }
  }
  append(out_item{f, data_opcode(), false}, size);
  return true;
}

std::size_t ws_connection::queued_size(const actors::frame& f) const {
  bool compressed = false;
  return f.payload_for(format_, deflate_, compressed).size();
}

void ws_connection::append(out_item item, std::size_t size) {
  queue_.push_back(std::move(item));
  queued_bytes_ += size;
  worker_.mark_dirty(this);
}

void ws_connection::close(uint16_t code, const std::string& reason) {
  asio::post(worker_.context(), [self = shared_from_this(), code, reason] {
    self->start_close(code, reason, true);
  });
}

void ws_connection::queue_control(ws::opcode op, std::string payload) {
  auto f = std::make_shared<actors::frame>();
  f->json = std::move(payload);
  // A flood of pings must not grow memory: answering only the latest is allowed
  // (RFC 6455 5.5.3), so a backlog of pongs is capped.
  if (control_.size() >= 16 && op == ws::opcode::pong) {
    control_.back().f = std::move(f);
  } else {
    control_.push_back(out_item{std::move(f), op, false});
  }
  worker_.mark_dirty(this);
}

void ws_connection::start_close(uint16_t code, const std::string& reason, bool after_queued) {
  if (state_ != state::open) {
    return;
  }
  state_ = state::closing;
  close_deadline_ = clock_type::now() + close_timeout;
  accepting_ = false;
  if (!after_queued) {
    queue_.clear();
    queued_bytes_ = 0;
  }
  close_after_queue_ = true;
  pending_close_ = ws::close_payload(code, reason);
  flush();
}

void ws_connection::flush() {
  while (state_ != state::closed && !write_waiting_) {
    if (writing_.empty()) {
      writing_.swap(control_);
      if (!queue_.empty()) {
        writing_.insert(writing_.end(), std::make_move_iterator(queue_.begin()),
                        std::make_move_iterator(queue_.end()));
        queue_.clear();
        queued_bytes_ = 0;
      }
      if (writing_.empty()) {
        lagging_ = false;
        if (!close_after_queue_ || close_sent_) {
          return;
        }
        auto f = std::make_shared<actors::frame>();
        f->json = std::move(pending_close_);
        writing_.push_back(out_item{std::move(f), ws::opcode::close, false});
        close_after_queue_ = false;
        close_sent_ = true;
        accepting_ = false;
      }
      write_offset_ = 0;
    }
    bool had_close = writing_.back().op == ws::opcode::close;
    if (!write_some_items()) {
      return; // waiting for the socket, or closed
    }
    writing_.clear();
    if (had_close) {
      if (state_ == state::open) {
        state_ = state::closing;
        close_deadline_ = clock_type::now() + close_timeout;
      }
      if (close_received_) {
        finish_close(); // both close frames exchanged: the server closes TCP first
        return;
      }
      if (reader_.finished() && !tls_) {
        // We failed the connection (protocol error): the reader ignores what follows, so
        // the peer's close frame is never seen and the socket lingered until close_timeout.
        // Send FIN now (RFC 6455 7.1.7); reads go on discarding until the peer's EOF.
        ::shutdown(fd_, SHUT_WR);
      }
    }
  }
}

bool ws_connection::write_some_items() {
  if (tls_) {
    return write_tls();
  }
  thread_local std::vector<iovec> iov;
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < scratch_capacity) {
    scratch.resize(scratch_capacity);
  }
  while (true) {
    iov.clear();
    std::size_t used = 0;     // bytes of scratch filled
    std::size_t skip = write_offset_;
    std::size_t batch = 0;    // bytes this writev would write
    bool complete = true;     // the batch reaches the end of writing_
    auto add = [&](const uint8_t* p, std::size_t n, bool copy) {
      if (skip >= n) {
        skip -= n;
        return true;
      }
      p += skip;
      n -= skip;
      skip = 0;
      if (copy && used + n <= scratch.size()) {
        std::memcpy(scratch.data() + used, p, n);
        if (!iov.empty() && static_cast<uint8_t*>(iov.back().iov_base) + iov.back().iov_len
                              == scratch.data() + used) {
          iov.back().iov_len += n;
        } else {
          if (iov.size() == max_segments) {
            return false;
          }
          iov.push_back(iovec{scratch.data() + used, n});
        }
        used += n;
      } else {
        if (iov.size() == max_segments) {
          return false;
        }
        iov.push_back(iovec{const_cast<uint8_t*>(p), n});
      }
      batch += n;
      return true;
    };
    for (const auto& item : writing_) {
      if (used + ws::max_server_header + copy_threshold > scratch.size()
          || iov.size() + 2 > max_segments) {
        complete = false;
        break;
      }
      if (item.raw) {
        add(reinterpret_cast<const uint8_t*>(item.f->json.data()), item.f->json.size(), true);
        continue;
      }
      bool compressed = false;
      const std::string* payload = &item.f->json;
      auto op = item.op;
      if (op == ws::opcode::text || op == ws::opcode::binary) {
        payload = &item.f->payload_for(format_, deflate(), compressed);
      }
      uint8_t header[ws::max_server_header];
      auto hlen = ws::write_header(header, op, true, compressed, payload->size());
      add(header, hlen, true);
      add(reinterpret_cast<const uint8_t*>(payload->data()), payload->size(),
          payload->size() <= copy_threshold);
    }
    if (iov.empty()) {
      return true;
    }
    // sendmsg rather than writev: MSG_NOSIGNAL turns a write to a reset connection into
    // EPIPE instead of a process-killing SIGPIPE (embedders keep their signal handling).
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = iov.size();
    auto n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_writable();
        return false;
      }
      if (errno == EINTR) {
        continue;
      }
      finish_close();
      return false;
    }
    count_out(static_cast<std::size_t>(n));
    write_offset_ += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < batch) {
      continue; // partial write: the next attempt most likely reports EAGAIN
    }
    if (complete) {
      return true;
    }
  }
}

void ws_connection::wait_writable() {
  write_waiting_ = true; // the socket's next EPOLLOUT edge resumes the flush (on_events)
}

void ws_connection::count_out(std::size_t bytes) {
  env_->stats->bytes_out_total.fetch_add(bytes, std::memory_order_relaxed);
}

void ws_connection::finish_close() {
  if (state_ == state::closed) {
    return;
  }
  state_ = state::closed;
  if (tls_) {
    tls_->close();
  } else if (fd_ >= 0) {
    worker_.unwatch(fd_);
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }
  accepting_ = false;
  queue_.clear();
  control_.clear();
  queued_bytes_ = 0;
  writing_.clear();
  env_->stats->connections.fetch_sub(1, std::memory_order_relaxed);
  if (session_) {
    caf::anon_send(session_, actors::closed_atom::value);
    session_ = nullptr;
  }
  worker_.detach(this);
}

void ws_connection::sweep(clock_type::time_point now) {
  if (state_ == state::closing) {
    if (now >= close_deadline_) {
      finish_close();
    }
    return;
  }
  if (state_ != state::open) {
    return;
  }
  const auto& ws = *env_->websocket;
  auto interval = std::chrono::milliseconds(ws.heartbeat_interval_ms);
  auto timeout = std::chrono::milliseconds(ws.heartbeat_timeout_ms);
  if (ping_outstanding_) {
    if (now - ping_sent_ >= timeout) {
      env_->stats->reject(actors::rejection::heartbeat_timeout);
      spdlog::info("[{}] {} closed: no pong within {} ms", env_->node_name, opts_.peer,
                   ws.heartbeat_timeout_ms);
      finish_close();
    }
    return;
  }
  if (now - last_rx_ >= interval) {
    ping_outstanding_ = true;
    ping_sent_ = now;
    queue_control(ws::opcode::ping, {});
  }
}

} // namespace plexus::net
