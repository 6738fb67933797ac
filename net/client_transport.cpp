#include "net/client_transport.hpp"

#include <deque>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace plexus::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

/// A server that does not answer our close frame within this is dropped.
constexpr std::chrono::milliseconds close_grace{2000};

// Connection states:
//
//   resolving -> connecting -> upgrading -> open -> closing -> ended
//        \            \            \          \________________/|
//         \____________\____________\___ any error, abort() ____/
class beast_transport final : public client_transport,
                              public std::enable_shared_from_this<beast_transport> {
public:
  beast_transport(asio::io_context& io, transport_request req, handlers h)
    : io_(io), req_(std::move(req)), h_(std::move(h)), resolver_(io), ws_(io), close_timer_(io) {
  }

  void run() {
    resolver_.async_resolve(
      req_.url.host, std::to_string(req_.url.port),
      [self = shared_from_this()](error_code ec, tcp::resolver::results_type r) {
        self->on_resolve(ec, std::move(r));
      });
  }

  void send(std::string data, bool binary) override {
    if (ended_ || closing_) {
      return;
    }
    queue_.emplace_back(std::move(data), binary);
    if (open_ && !writing_) {
      do_write();
    }
  }

  void close(uint16_t code, std::string reason) override {
    if (ended_ || closing_) {
      return;
    }
    if (!open_) {
      abort("closed before the upgrade finished");
      return;
    }
    closing_ = true;
    pending_close_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    if (!writing_) {
      do_close(); // nothing queued: the queue is only non-empty while writing
    }
    close_timer_.expires_after(close_grace);
    close_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) {
        self->abort("server did not answer the close frame");
      }
    });
  }

  void abort(std::string why) override {
    if (ended_) {
      return;
    }
    transport_end e = base_end(std::move(why));
    if (open_ && e.close_code == 0) {
      e.close_code = 1006;
    }
    teardown();
    // Posted: the caller may be in the middle of its own state change.
    asio::post(io_, [self = shared_from_this(), e = std::move(e)]() { self->finish(e); });
    ended_ = true;
  }

private:
  transport_end base_end(std::string reason) const {
    transport_end e;
    e.was_open = open_;
    e.reason = std::move(reason);
    return e;
  }

  void teardown() {
    error_code ignored;
    resolver_.cancel();
    close_timer_.cancel();
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }

  /// Ends the connection with `e` unless it already ended.
  void end(transport_end e) {
    if (ended_) {
      return;
    }
    ended_ = true;
    teardown();
    finish(e);
  }

  void finish(const transport_end& e) {
    queue_.clear();
    if (h_.on_end) {
      auto on_end = std::move(h_.on_end);
      h_ = handlers{}; // no further callbacks after the end
      on_end(e);
    }
  }

  void fail(const char* what, error_code ec) {
    end(base_end(std::string(what) + ": " + ec.message()));
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    if (ended_) {
      return;
    }
    if (ec) {
      return fail("resolve", ec);
    }
    beast::get_lowest_layer(ws_).expires_after(req_.timeout);
    beast::get_lowest_layer(ws_).async_connect(
      results,
      [self = shared_from_this()](error_code ec, const tcp::endpoint&) { self->on_connect(ec); });
  }

  void on_connect(error_code ec) {
    if (ended_) {
      return;
    }
    if (ec) {
      return fail("connect", ec);
    }
    auto& lowest = beast::get_lowest_layer(ws_);
    lowest.expires_never(); // the websocket stream's own timeouts take over
    error_code ignored;
    lowest.socket().set_option(tcp::no_delay(true), ignored);

    websocket::stream_base::timeout t;
    t.handshake_timeout = req_.timeout;
    t.idle_timeout = websocket::stream_base::none(); // the client's heartbeat watchdog
    t.keep_alive_pings = false;
    ws_.set_option(t);
    if (req_.compression) {
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      ws_.set_option(pmd);
    }
    ws_.read_message_max(req_.max_message_bytes);
    ws_.auto_fragment(false);
    ws_.set_option(websocket::stream_base::decorator(
      [proto = req_.subprotocol, token = req_.token](websocket::request_type& r) {
        r.set(http::field::user_agent, "plexus-client");
        if (!proto.empty()) {
          r.set(http::field::sec_websocket_protocol, proto);
        }
        if (!token.empty()) {
          r.set(http::field::authorization, "Bearer " + token);
        }
      }));
    ws_.control_callback([this](websocket::frame_type, beast::string_view) {
      // Runs inside a read of ours, which holds a reference to this object.
      if (!ended_ && h_.on_activity) {
        h_.on_activity();
      }
    });
    ws_.async_handshake(res_, req_.url.host_header(), req_.url.target,
                        [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(error_code ec) {
    if (ended_) {
      return;
    }
    if (ec) {
      transport_end e = base_end("upgrade: " + ec.message());
      if (ec == websocket::error::upgrade_declined) {
        e.http_status = static_cast<int>(res_.result_int());
        e.retry_after = std::string(res_[http::field::retry_after]);
        e.alternate = std::string(res_["X-Plexus-Alternate"]);
        e.reason = "upgrade refused with HTTP " + std::to_string(e.http_status);
        if (!res_.body().empty()) {
          e.reason += ": " + res_.body();
        }
      }
      return end(std::move(e));
    }
    open_ = true;
    std::string proto(res_[http::field::sec_websocket_protocol]);
    if (h_.on_open) {
      h_.on_open(proto);
    }
    if (ended_) {
      return; // on_open may have aborted (wrong subprotocol)
    }
    do_read();
    if (!queue_.empty() && !writing_) {
      do_write();
    }
  }

  void do_read() {
    ws_.async_read(buffer_,
                   [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ended_) {
      return;
    }
    if (ec) {
      transport_end e = base_end(ec.message());
      if (ec == websocket::error::closed) {
        e.close_code = static_cast<uint16_t>(ws_.reason().code);
        e.reason = std::string(ws_.reason().reason.c_str());
      } else {
        e.close_code = 1006;
      }
      return end(std::move(e));
    }
    if (h_.on_activity) {
      h_.on_activity();
    }
    auto data = buffer_.cdata();
    std::string_view view(static_cast<const char*>(data.data()), data.size());
    if (h_.on_message) {
      h_.on_message(view);
    }
    buffer_.consume(buffer_.size());
    if (!ended_) {
      do_read();
    }
  }

  void do_write() {
    writing_ = true;
    ws_.binary(queue_.front().second);
    ws_.async_write(
      asio::buffer(queue_.front().first),
      [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    writing_ = false;
    if (ended_) {
      return;
    }
    if (ec) {
      return fail("write", ec);
    }
    queue_.pop_front();
    if (!queue_.empty()) {
      do_write();
    } else if (closing_) {
      do_close();
    }
  }

  void do_close() {
    if (close_started_) {
      return;
    }
    close_started_ = true;
    // The read loop sees the server's close frame and ends the connection.
    ws_.async_close(pending_close_, [self = shared_from_this()](error_code ec) {
      if (ec && !self->ended_) {
        self->fail("close", ec);
      }
    });
  }

  asio::io_context& io_;
  transport_request req_;
  handlers h_;
  tcp::resolver resolver_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type res_;
  beast::flat_buffer buffer_;
  asio::steady_timer close_timer_;
  std::deque<std::pair<std::string, bool>> queue_;
  websocket::close_reason pending_close_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_started_ = false;
  bool ended_ = false;
};

} // namespace

std::shared_ptr<client_transport> client_transport::start(asio::io_context& io,
                                                          transport_request req, handlers h) {
  auto t = std::make_shared<beast_transport>(io, std::move(req), std::move(h));
  t->run();
  return t;
}

} // namespace plexus::net
