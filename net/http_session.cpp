// The server's Beast HTTP code: HTTP/1.1 parsing and writing over plain TCP or TLS, and the
// hand-off of upgraded connections to ws_connection.
#include <type_traits>

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "net/server.hpp"
#include "net/static_files.hpp"
#include "net/tls_stream.hpp"

namespace plexus::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// Request bodies (POST /v1/publish) are bounded like WebSocket messages, plus room for
/// the JSON envelope.
constexpr std::size_t header_limit = 16 * 1024;

http_request convert(const http::request<http::string_body>& req, const std::string& peer_ip) {
  http_request out;
  out.method = std::string(req.method_string());
  out.version = req.version();
  out.target = std::string(req.target());
  auto q = out.target.find('?');
  out.path = url_decode(std::string_view{out.target}.substr(0, q));
  if (q != std::string::npos) {
    std::string_view rest = std::string_view{out.target}.substr(q + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      auto pair = rest.substr(0, amp);
      auto eq = pair.find('=');
      auto key = url_decode(pair.substr(0, eq));
      auto value = eq == std::string_view::npos ? std::string{} : url_decode(pair.substr(eq + 1));
      out.query.emplace(std::move(key), std::move(value));
      if (amp == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(amp + 1);
    }
  }
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = req.body();
  out.peer_ip = peer_ip;
  return out;
}

/// One HTTP/1.1 connection over `Stream` (beast::tcp_stream, or tls_stream when `[tls]` is
/// set): completes the TLS handshake and reads requests, each within the handshake
/// timeout, answers routes, and hands WebSocket upgrades over to a ws_connection on the
/// same worker.
template <class Stream>
class http_session : public std::enable_shared_from_this<http_session<Stream>> {
public:
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

  template <class... Args>
  http_session(server& srv, io_worker& worker, tcp::socket socket, Args&... tls_context)
    : stream_(std::move(socket), tls_context...), srv_(srv), worker_(worker) {
    boost::system::error_code ec;
    auto ep = lowest().socket().remote_endpoint(ec);
    if (!ec) {
      peer_ip_ = ep.address().to_string();
      peer_ = peer_ip_ + ":" + std::to_string(ep.port());
    }
  }

  void run() {
    if constexpr (is_tls) {
      // The TLS handshake counts against the same timeout as the request: a peer that
      // opens TCP and never says hello is a slowloris too.
      lowest().expires_after(handshake_timeout());
      stream_.async_handshake(boost::asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                self->on_handshake(ec);
                              });
    } else {
      do_read();
    }
  }

private:
  beast::tcp_stream& lowest() {
    return beast::get_lowest_layer(stream_);
  }

  std::chrono::milliseconds handshake_timeout() const {
    return std::chrono::milliseconds(srv_.settings().limits.handshake_timeout_ms);
  }

  void on_handshake(beast::error_code ec) {
    if (ec == beast::error::timeout) {
      srv_.deps().ctx.stats->reject(actors::rejection::handshake_timeout);
      spdlog::info("[{}] {} dropped: TLS handshake not complete within {} ms",
                   srv_.settings().node_name, peer_, srv_.settings().limits.handshake_timeout_ms);
      return close();
    }
    if (ec) {
      // Plain HTTP on the TLS port, an unsupported version, a scanner: counted and logged
      // like any refused request.
      srv_.deps().ctx.stats->reject(actors::rejection::bad_upgrade);
      spdlog::info("[{}] {} dropped: TLS handshake failed: {}", srv_.settings().node_name, peer_,
                   ec.message());
      return close();
    }
    do_read();
  }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(srv_.settings().websocket.max_message_bytes + 1024);
    lowest().expires_after(handshake_timeout());
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset
        || ec == asio::error::eof) {
      return close();
    }
    if (ec == beast::error::timeout) {
      srv_.deps().ctx.stats->reject(actors::rejection::handshake_timeout);
      spdlog::info("[{}] {} dropped: request not complete within {} ms",
                   srv_.settings().node_name, peer_, srv_.settings().limits.handshake_timeout_ms);
      return close();
    }
    if (ec) {
      srv_.deps().ctx.stats->reject(actors::rejection::bad_upgrade);
      auto status = ec == http::error::body_limit ? 413u : 400u;
      spdlog::info("[{}] {} refused ({}): malformed HTTP request: {}", srv_.settings().node_name,
                   peer_, status, ec.message());
      return respond(http_response::error(status, "bad_request",
                                          "malformed HTTP request: " + ec.message()),
                     false);
    }
    auto req = convert(parser_->get(), peer_ip_);
    bool keep_alive = parser_->get().keep_alive();
    if (req.path == "/ws" || (req.path == "/ws/echo" && srv_.settings().websocket.echo_endpoint)) {
      return upgrade(std::move(req));
    }
    route(req, keep_alive);
  }

  void route(const http_request& req, bool keep_alive) {
    bool path_known = false;
    auto* handler = srv_.routes().find(req.method, req.path, path_known);
    if (handler != nullptr) {
      // The handler may answer later from another thread: come back to our worker.
      auto self = this->shared_from_this();
      (*handler)(req, [self, keep_alive](http_response r) {
        asio::post(self->worker_.context(), [self, keep_alive, r = std::move(r)]() mutable {
          self->respond(std::move(r), keep_alive);
        });
      });
      return;
    }
    if (req.method == "GET" || req.method == "HEAD") {
      if (auto file = serve_static(srv_.settings().static_dir, req.path)) {
        return respond(std::move(*file), keep_alive);
      }
    }
    if (path_known) {
      srv_.deps().ctx.stats->reject(actors::rejection::method_not_allowed);
      spdlog::info("[{}] {} refused (405): {} {}", srv_.settings().node_name, peer_, req.method,
                   req.path);
      return respond(http_response::error(405, "method_not_allowed",
                                          req.method + " is not allowed on " + req.path),
                     keep_alive);
    }
    srv_.deps().ctx.stats->reject(actors::rejection::not_found);
    spdlog::info("[{}] {} refused (404): {} {}", srv_.settings().node_name, peer_, req.method,
                 req.path);
    respond(http_response::error(404, "not_found", "no such path: " + req.path), keep_alive);
  }

  void upgrade(http_request req) {
    auto decision = plan_upgrade(req, srv_.upgrade_state(peer_ip_));
    if (auto* refusal = std::get_if<upgrade_refusal>(&decision)) {
      srv_.deps().ctx.stats->reject(refusal->reason);
      spdlog::info("[{}] {} upgrade refused ({}): {}", srv_.settings().node_name, peer_,
                   refusal->response.status, refusal->log);
      return respond(std::move(refusal->response), false);
    }
    auto& plan = std::get<upgrade_plan>(decision);
    std::string initial;
    if (buffer_.size() > 0) {
      auto data = buffer_.data();
      initial.assign(static_cast<const char*>(data.data()), data.size());
    }
    lowest().expires_never();
    if constexpr (is_tls) {
      // The SSL state moves with the stream; the session keeps nothing that refers to it.
      auto tls = std::make_unique<tls_transport>(
        std::make_unique<tls_transport::impl>(std::move(stream_)));
      srv_.open_connection(tcp::socket{worker_.context()}, worker_, std::move(plan),
                           std::move(initial), peer_, std::move(tls));
    } else {
      srv_.open_connection(stream_.release_socket(), worker_, std::move(plan), std::move(initial),
                           peer_, nullptr);
    }
  }

  void respond(http_response r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->result(r.status);
    res->version(11);
    res->set(http::field::server, "plexus");
    res->set(http::field::content_type, r.content_type);
    for (auto& h : r.headers) {
      res->set(h.first, h.second);
    }
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    lowest().expires_after(std::chrono::seconds(30));
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res, keep_alive](beast::error_code ec,
                                                                        std::size_t) {
                        if (ec || !keep_alive) {
                          return self->close();
                        }
                        self->do_read();
                      });
  }

  void close() {
    // Over TLS no close_notify is sent: the response carried its length, and waiting for
    // the peer's close_notify would let a silent client hold the socket.
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().close();
  }

  Stream stream_;
  server& srv_;
  io_worker& worker_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_ip_;
  std::string peer_;
};

} // namespace

void start_http_session(tcp::socket socket, server& srv, io_worker& worker) {
  if (auto* ctx = srv.tls_context()) {
    std::make_shared<http_session<tls_stream>>(srv, worker, std::move(socket), *ctx)->run();
  } else {
    std::make_shared<http_session<beast::tcp_stream>>(srv, worker, std::move(socket))->run();
  }
}

} // namespace plexus::net
