// The thread-safe face of the client: owns the io thread and posts every call to it.
#include "net/client.hpp"

#include <stdexcept>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "net/client_core.hpp"

namespace plexus::net {

namespace {

/// How long the destructor waits for a clean close handshake before dropping the socket.
constexpr std::chrono::milliseconds destroy_grace{2500};

/// A callback that fulfils a promise, and the future to wait on.
template <class T>
std::pair<result_callback<T>, std::future<client_result<T>>> promised() {
  auto p = std::make_shared<std::promise<client_result<T>>>();
  auto f = p->get_future();
  return {[p](const client_result<T>& r) { p->set_value(r); }, std::move(f)};
}

} // namespace

const char* to_string(client_state s) {
  switch (s) {
    case client_state::connecting:
      return "connecting";
    case client_state::open:
      return "open";
    case client_state::reconnecting:
      return "reconnecting";
    case client_state::closed:
      return "closed";
  }
  return "closed";
}

struct client::shared {
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread;
  client_status status;

  bool on_io_thread() const {
    return std::this_thread::get_id() == thread.get_id();
  }
};

client::client(client_options opts, client_handlers handlers)
  : shared_(std::make_shared<shared>()) {
  auto url = parse_ws_url(opts.url);
  if (!url) {
    throw std::invalid_argument("client url '" + opts.url
                                + "' is not a ws:// URL with a host (ws://host:port/ws)");
  }
  if (url->secure) {
    throw std::invalid_argument("client url '" + opts.url + "': wss:// is not supported yet");
  }
  if (auto problem = validate(opts.reconnect); !problem.empty()) {
    throw std::invalid_argument("client " + problem);
  }
  if (opts.connect_timeout.count() <= 0 || opts.request_timeout.count() <= 0) {
    throw std::invalid_argument("client connect_timeout and request_timeout must be > 0 ms");
  }
  if (opts.heartbeat.count() < 0) {
    throw std::invalid_argument("client heartbeat must be >= 0 ms (0 = the server's)");
  }
  core_ = std::make_unique<core>(shared_->io, shared_->status, std::move(opts), std::move(handlers),
                                 std::move(*url));
  shared_->thread = std::thread([s = shared_.get()]() { s->io.run(); });
}

client::~client() {
  if (shared_->on_io_thread()) {
    // Destroyed from one of its own handlers: the io thread cannot join itself.
    spdlog::critical("plexus client destroyed from inside its own handler");
    std::terminate();
  }
  boost::asio::post(shared_->io, [c = core_.get()]() { c->close(); });
  wait_for_state(client_state::closed, destroy_grace);
  std::promise<void> down;
  auto down_future = down.get_future();
  boost::asio::post(shared_->io, [c = core_.get(), &down]() {
    c->shutdown();
    down.set_value();
  });
  down_future.wait();
  shared_->work.reset();
  shared_->io.stop();
  shared_->thread.join();
  core_.reset(); // before the io_context: its timers and sockets belong to it
}

void client::connect() {
  boost::asio::post(shared_->io, [c = core_.get()]() { c->connect(); });
}

void client::close() {
  boost::asio::post(shared_->io, [c = core_.get()]() { c->close(); });
}

client_state client::state() const {
  std::lock_guard<std::mutex> lock(shared_->status.mu);
  return shared_->status.state;
}

bool client::wait_for_state(client_state s, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(shared_->status.mu);
  return shared_->status.cv.wait_for(lock, timeout, [&]() { return shared_->status.state == s; });
}

std::optional<welcome_event> client::welcome() const {
  std::lock_guard<std::mutex> lock(shared_->status.mu);
  return shared_->status.welcome;
}

void client::subscribe(std::string channel, subscribe_options opts,
                       result_callback<subscribed_event> done) {
  boost::asio::post(shared_->io, [c = core_.get(), ch = std::move(channel), o = std::move(opts),
                                  d = std::move(done)]() mutable {
    c->subscribe(std::move(ch), std::move(o), std::move(d));
  });
}

std::future<client_result<subscribed_event>> client::subscribe(std::string channel,
                                                               subscribe_options opts) {
  auto [cb, f] = promised<subscribed_event>();
  subscribe(std::move(channel), std::move(opts), std::move(cb));
  return std::move(f);
}

void client::unsubscribe(std::string channel, result_callback<done> cb) {
  boost::asio::post(shared_->io,
                    [c = core_.get(), ch = std::move(channel), d = std::move(cb)]() mutable {
                      c->unsubscribe(std::move(ch), std::move(d));
                    });
}

std::future<client_result<done>> client::unsubscribe(std::string channel) {
  auto [cb, f] = promised<done>();
  unsubscribe(std::move(channel), std::move(cb));
  return std::move(f);
}

void client::publish(std::string channel, payload data, result_callback<uint64_t> cb) {
  boost::asio::post(shared_->io, [c = core_.get(), ch = std::move(channel), p = std::move(data),
                                  d = std::move(cb)]() mutable {
    c->publish(std::move(ch), std::move(p), std::move(d));
  });
}

std::future<client_result<uint64_t>> client::publish(std::string channel, payload data) {
  auto [cb, f] = promised<uint64_t>();
  publish(std::move(channel), std::move(data), std::move(cb));
  return std::move(f);
}

void client::presence(std::string channel, result_callback<presence_event> cb) {
  boost::asio::post(shared_->io,
                    [c = core_.get(), ch = std::move(channel), d = std::move(cb)]() mutable {
                      c->presence(std::move(ch), std::move(d));
                    });
}

std::future<client_result<presence_event>> client::presence(std::string channel) {
  auto [cb, f] = promised<presence_event>();
  presence(std::move(channel), std::move(cb));
  return std::move(f);
}

void client::set_status(std::string status, std::optional<payload> meta, result_callback<done> cb) {
  boost::asio::post(shared_->io, [c = core_.get(), s = std::move(status), m = std::move(meta),
                                  d = std::move(cb)]() mutable {
    c->set_status(std::move(s), std::move(m), std::move(d));
  });
}

std::future<client_result<done>> client::set_status(std::string status,
                                                    std::optional<payload> meta) {
  auto [cb, f] = promised<done>();
  set_status(std::move(status), std::move(meta), std::move(cb));
  return std::move(f);
}

void client::ping(result_callback<done> cb) {
  boost::asio::post(shared_->io,
                    [c = core_.get(), d = std::move(cb)]() mutable { c->ping(std::move(d)); });
}

std::future<client_result<done>> client::ping() {
  auto [cb, f] = promised<done>();
  ping(std::move(cb));
  return std::move(f);
}

std::vector<client::channel_position> client::positions() const {
  if (shared_->on_io_thread()) {
    return core_->positions();
  }
  std::promise<std::vector<channel_position>> p;
  auto f = p.get_future();
  boost::asio::post(shared_->io, [c = core_.get(), &p]() { p.set_value(c->positions()); });
  return f.get();
}

} // namespace plexus::net
