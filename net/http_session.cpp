// The only translation unit of the server that includes Beast: HTTP/1.1 parsing and
// writing, and the hand-off of upgraded sockets to ws_connection.
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "net/server.hpp"
#include "net/static_files.hpp"

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

/// One HTTP/1.1 connection: reads requests (each within the handshake timeout), answers
/// routes, and hands WebSocket upgrades over to a ws_connection on the same worker.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket socket, server& srv, io_worker& worker)
    : stream_(std::move(socket)), srv_(srv), worker_(worker) {
    boost::system::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      peer_ip_ = ep.address().to_string();
      peer_ = peer_ip_ + ":" + std::to_string(ep.port());
    }
  }

  void run() {
    do_read();
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(srv_.settings().websocket.max_message_bytes + 1024);
    stream_.expires_after(std::chrono::milliseconds(srv_.settings().limits.handshake_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
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
      auto self = shared_from_this();
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
      return respond(http_response::error(405, "method_not_allowed",
                                          req.method + " is not allowed on " + req.path),
                     keep_alive);
    }
    srv_.deps().ctx.stats->reject(actors::rejection::not_found);
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
    stream_.expires_never();
    srv_.open_connection(stream_.release_socket(), worker_, std::move(plan), std::move(initial),
                         peer_);
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
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec,
                                                                  std::size_t) {
                        if (ec || !keep_alive) {
                          return self->close();
                        }
                        self->do_read();
                      });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  server& srv_;
  io_worker& worker_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_ip_;
  std::string peer_;
};

} // namespace

void start_http_session(tcp::socket socket, server& srv, io_worker& worker) {
  std::make_shared<http_session>(std::move(socket), srv, worker)->run();
}

} // namespace plexus::net
