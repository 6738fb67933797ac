#include "net/client_core.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include <spdlog/spdlog.h>

namespace plexus::net {

namespace {

using std::chrono::milliseconds;

/// Granularity of request deadlines and of the heartbeat watchdog.
constexpr milliseconds tick_interval{100};

error_event make_error(std::string code, std::string message, std::optional<int64_t> id = {}) {
  return error_event{id, std::move(code), std::move(message)};
}

/// Refusals and close codes that a retry with the same settings cannot fix.
bool is_terminal(const transport_end& e, bool can_renew_token) {
  switch (e.http_status) {
    case 400: // not a plexus endpoint, or a malformed upgrade
    case 403: // origin not allowed
    case 404:
      return true;
    case 401: // token missing, invalid or expired
      return !can_renew_token;
    default:
      break;
  }
  if (e.close_code == 1008) { // policy: auth revoked, origin
    return true;
  }
  return e.close_code == 4001 && !can_renew_token; // token expired
}

} // namespace

client::core::core(boost::asio::io_context& io, client_status& status, client_options opts,
                   client_handlers handlers, ws_url home)
  : io_(io), shared_(status), opts_(std::move(opts)), h_(std::move(handlers)),
    home_(std::move(home)), retry_timer_(io), tick_timer_(io), rng_(std::random_device{}()) {
}

client::core::~core() = default;

// -- connection life --------------------------------------------------------------------

void client::core::set_state(client_state s) {
  if (s == state_) {
    return;
  }
  state_ = s;
  {
    std::lock_guard<std::mutex> lock(shared_.mu);
    shared_.state = s;
  }
  shared_.cv.notify_all();
  if (h_.on_state) {
    h_.on_state(s);
  }
}

void client::core::connect() {
  if (started_) {
    return;
  }
  started_ = true;
  stopping_ = false;
  fatal_ = false;
  attempts_ = 0;
  alternate_hops_ = 0;
  set_state(client_state::connecting);
  arm_tick();
  start_attempt();
}

void client::core::start_attempt() {
  const uint64_t gen = ++generation_;
  transport_request req;
  req.url = redirect_ ? *redirect_ : home_;
  redirect_.reset();
  if (opts_.resume_in_url) {
    std::lock_guard<std::mutex> lock(shared_.mu);
    if (shared_.welcome && !shared_.welcome->resume.empty()) {
      std::string token;
      for (unsigned char ch : shared_.welcome->resume) {
        if (std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch == '~') {
          token += static_cast<char>(ch);
        } else {
          static const char* hex = "0123456789ABCDEF";
          token += '%';
          token += hex[ch >> 4];
          token += hex[ch & 15];
        }
      }
      req.url.target += (req.url.target.find('?') == std::string::npos ? "?" : "&");
      req.url.target += "resume=" + token;
    }
  }
  req.subprotocol = opts_.format == wire_format::msgpack ? "plexus.msgpack" : "plexus.json";
  req.token = opts_.token_provider ? opts_.token_provider() : opts_.token;
  req.compression = opts_.compression;
  req.timeout = opts_.connect_timeout;
  req.max_message_bytes = opts_.max_message_bytes;
  welcomed_ = false;
  attempt_started_ = clock::now();
  spdlog::debug("plexus client: connecting to {}", req.url.str());
  client_transport::handlers th;
  th.on_open = [this, gen](const std::string& proto) { on_open(gen, proto); };
  th.on_message = [this, gen](std::string_view bytes) { on_data(gen, bytes); };
  th.on_activity = [this, gen]() {
    if (gen == generation_) {
      last_rx_ = clock::now();
    }
  };
  th.on_end = [this, gen](const transport_end& e) { on_end(gen, e); };
  transport_ = client_transport::start(io_, std::move(req), std::move(th));
}

void client::core::on_open(uint64_t generation, const std::string& proto) {
  if (generation != generation_) {
    return;
  }
  last_rx_ = last_tx_ = clock::now();
  const bool msgpack = opts_.format == wire_format::msgpack;
  // A node that ignores the offer speaks JSON, which is only what we want if we asked for it.
  if (msgpack ? proto != "plexus.msgpack" : !(proto.empty() || proto == "plexus.json")) {
    fatal_ = true;
    transport_->abort("server did not accept subprotocol "
                      + std::string(msgpack ? "plexus.msgpack" : "plexus.json") + " (chose '"
                      + proto + "')");
  }
}

void client::core::on_data(uint64_t generation, std::string_view bytes) {
  if (generation != generation_) {
    return;
  }
  auto out = decode_server_frame(opts_.format, bytes);
  if (!out.frame) {
    spdlog::warn("plexus client: undecodable frame from the server: {}", out.error);
    if (h_.on_error) {
      h_.on_error(make_error("protocol", out.error));
    }
    return;
  }
  handle(*out.frame);
}

void client::core::on_end(uint64_t generation, const transport_end& e) {
  if (generation != generation_) {
    return;
  }
  transport_.reset();
  const bool was_welcomed = welcomed_;
  welcomed_ = false;
  spdlog::debug("plexus client: connection ended (open {}, close {}, http {}): {}", e.was_open,
                e.close_code, e.http_status, e.reason);
  // Requests in flight: the server may or may not have applied them.
  std::vector<std::function<void()>> calls;
  for (auto i = pending_.begin(); i != pending_.end();) {
    if (!i->second.sent) {
      ++i;
      continue;
    }
    auto complete = std::move(i->second.complete);
    bool ok = i->second.survives_drop;
    i = pending_.erase(i);
    calls.emplace_back([complete = std::move(complete), ok]() {
      if (ok) {
        complete(nullptr, nullptr);
      } else {
        auto err = make_error("disconnected", "the connection dropped before the reply");
        complete(nullptr, &err);
      }
    });
  }
  for (auto& [channel, sub] : subs_) {
    sub.request_id.reset(); // re-sent after the reconnect
  }
  status_request_.reset();
  for (auto& call : calls) {
    call();
  }
  if (stopping_ || !started_) {
    fail_all("closed", "the client was closed");
    set_state(client_state::closed);
    return;
  }
  if (was_welcomed) {
    attempts_ = 0;
  }
  schedule_retry(e);
}

void client::core::schedule_retry(const transport_end& e) {
  disconnect_info info;
  info.close_code = e.close_code;
  info.reason = e.reason;
  info.http_status = e.http_status;
  const bool terminal = fatal_ || is_terminal(e, static_cast<bool>(opts_.token_provider));
  const bool allowed = !terminal && may_retry(opts_.reconnect, attempts_);
  if (!allowed) {
    if (h_.on_disconnect) {
      h_.on_disconnect(info);
    }
    give_up(
      "connect_failed",
      (terminal ? "not retrying: " : "giving up after " + std::to_string(attempts_) + " attempts: ")
        + e.reason);
    return;
  }
  milliseconds delay{0};
  std::optional<ws_url> alternate;
  if (!e.alternate.empty()) {
    alternate = parse_ws_url(e.alternate);
  }
  if (redirect_after_) {
    // The server asked (`reconnect` frame): its delay, and a fresh backoff afterwards.
    delay = milliseconds(*redirect_after_);
    redirect_after_.reset();
    attempts_ = 0;
  } else if (alternate && alternate_hops_ == 0) {
    // A full or draining node named one with room: go there at once, once in a row.
    redirect_ = alternate;
    ++alternate_hops_;
  } else {
    if (alternate) {
      redirect_ = alternate;
      ++alternate_hops_;
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    delay = backoff_delay(opts_.reconnect, attempts_, unit(rng_));
    if (!e.retry_after.empty() && !alternate) {
      char* end = nullptr;
      long secs = std::strtol(e.retry_after.c_str(), &end, 10);
      if (end != e.retry_after.c_str() && secs > 0 && secs < 3600) {
        delay = std::max(delay, milliseconds(secs * 1000));
      }
    }
    ++attempts_;
  }
  set_state(client_state::reconnecting);
  info.will_retry = true;
  info.retry_in_ms = static_cast<uint64_t>(delay.count());
  info.next_url = (redirect_ ? *redirect_ : home_).str();
  spdlog::debug("plexus client: retrying {} in {} ms", info.next_url, info.retry_in_ms);
  if (h_.on_disconnect) {
    h_.on_disconnect(info);
  }
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([this, gen = generation_](boost::system::error_code ec) {
    if (!ec && gen == generation_ && started_ && !stopping_ && !transport_) {
      start_attempt();
    }
  });
}

void client::core::give_up(const std::string& code, const std::string& why) {
  spdlog::info("plexus client: {}", why);
  started_ = false;
  stopping_ = true; // requests fail with `closed` until the next connect()
  retry_timer_.cancel();
  if (h_.on_error) {
    h_.on_error(make_error(code, why));
  }
  fail_all("closed", why);
  set_state(client_state::closed);
}

void client::core::close() {
  if (!started_) {
    return;
  }
  started_ = false;
  stopping_ = true;
  retry_timer_.cancel();
  if (transport_) {
    transport_->close(1000, "client closing"); // on_end finishes the close
    return;
  }
  fail_all("closed", "the client was closed");
  set_state(client_state::closed);
}

void client::core::shutdown() {
  started_ = false;
  stopping_ = true;
  ++generation_; // whatever the transport still reports is stale now
  retry_timer_.cancel();
  tick_timer_.cancel();
  if (transport_) {
    transport_->abort("client destroyed");
    transport_.reset();
  }
  fail_all("closed", "the client was destroyed");
  set_state(client_state::closed);
}

void client::core::on_welcome(const welcome_event& w) {
  welcomed_ = true;
  attempts_ = 0;
  alternate_hops_ = 0;
  heartbeat_ = opts_.heartbeat.count() > 0 ? opts_.heartbeat : milliseconds(w.heartbeat_ms);
  {
    std::lock_guard<std::mutex> lock(shared_.mu);
    shared_.welcome = w;
  }
  set_state(client_state::open);
  if (h_.on_welcome) {
    h_.on_welcome(w);
  }
  if (!open()) {
    return; // a handler closed the client
  }
  // Status first: the joins the re-subscribes cause then carry it.
  if (presence_status_) {
    send_status();
  }
  for (auto& [channel, sub] : subs_) {
    send_subscribe(channel, sub);
  }
  auto unsent = std::move(unsent_);
  unsent_.clear();
  for (int64_t id : unsent) {
    auto i = pending_.find(id);
    if (i != pending_.end() && !i->second.sent) {
      i->second.sent = true;
      send_frame(std::move(i->second.frame));
      i->second.frame.clear();
    }
  }
}

void client::core::arm_tick() {
  if (ticking_) {
    return;
  }
  ticking_ = true;
  tick_timer_.expires_after(tick_interval);
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    ticking_ = false;
    if (!ec) {
      on_tick();
    }
  });
}

void client::core::on_tick() {
  const auto now = clock::now();
  std::vector<std::function<void()>> calls;
  for (auto i = pending_.begin(); i != pending_.end();) {
    if (i->second.deadline > now) {
      ++i;
      continue;
    }
    calls.emplace_back([complete = std::move(i->second.complete)]() {
      auto err = make_error("timeout", "no reply within request_timeout");
      complete(nullptr, &err);
    });
    i = pending_.erase(i);
  }
  for (auto& [channel, sub] : subs_) {
    if (!sub.waiters.empty() && sub.deadline <= now) {
      // The subscription stays: it is still sent when the connection opens.
      calls.emplace_back([waiters = std::move(sub.waiters)]() {
        for (auto& w : waiters) {
          w(make_error("timeout", "not subscribed within request_timeout"));
        }
      });
      sub.waiters.clear();
    }
    if (sub.gap_since && now - *sub.gap_since > opts_.request_timeout && open()) {
      sub.gap_since = now; // the gap's re-subscribe went unanswered: ask again, once a timeout
      send_subscribe(channel, sub);
    }
  }
  for (auto i = status_waiters_.begin(); i != status_waiters_.end();) {
    if (i->second > now) {
      ++i;
      continue;
    }
    calls.emplace_back([w = std::move(i->first)]() {
      w(make_error("timeout", "status not acknowledged within request_timeout"));
    });
    i = status_waiters_.erase(i);
  }
  for (auto& call : calls) {
    call();
  }
  if (transport_ && !welcomed_ && now - attempt_started_ > opts_.connect_timeout) {
    transport_->abort("no welcome within connect_timeout");
  } else if (transport_ && open() && heartbeat_.count() > 0) {
    if (now - last_rx_ >= 2 * heartbeat_) {
      transport_->abort("server silent for " + std::to_string(2 * heartbeat_.count()) + " ms");
    } else if (now - last_tx_ >= heartbeat_) {
      send_frame(encode_ping(opts_.format, std::nullopt));
    }
  }
  if (started_ || !pending_.empty()) {
    arm_tick();
  }
}

// -- frames -------------------------------------------------------------------------------

void client::core::handle(server_frame& f) {
  std::visit(
    [&](auto& x) {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, welcome_event>) {
        on_welcome(x);
      } else if constexpr (std::is_same_v<T, message_event>) {
        on_message(x);
      } else if constexpr (std::is_same_v<T, subscribed_frame>) {
        on_subscribed(x);
      } else if constexpr (std::is_same_v<T, presence_frame>) {
        on_presence(x);
      } else if constexpr (std::is_same_v<T, presence_diff_event>) {
        on_diff(x);
      } else if constexpr (std::is_same_v<T, ack_frame>) {
        on_reply(x.id, &f, nullptr);
      } else if constexpr (std::is_same_v<T, pong_frame>) {
        if (x.id) {
          on_reply(*x.id, &f, nullptr);
        }
      } else if constexpr (std::is_same_v<T, error_event>) {
        if (x.id) {
          on_reply(*x.id, nullptr, &x);
        } else if (h_.on_error) {
          h_.on_error(x);
        }
      } else if constexpr (std::is_same_v<T, reconnect_frame>) {
        on_reconnect_frame(x);
      } else if constexpr (std::is_same_v<T, refresh_required_frame>) {
        if (opts_.token_provider && open()) {
          send_frame(encode_refresh(opts_.format, next_id(), opts_.token_provider()));
        }
      } else {
        spdlog::debug("plexus client: ignoring frame of unknown type '{}'", x.type);
      }
    },
    f);
}

void client::core::on_subscribed(subscribed_frame& s) {
  auto i = subs_.find(s.event.channel);
  if (i == subs_.end()) {
    return; // unsubscribed meanwhile
  }
  subscription& sub = i->second;
  if (!s.event.recovered.value_or(false)) {
    // Nothing replayed: resume from the head the server reported. When recovered, the
    // replayed messages move the offset on as they arrive.
    sub.offset = s.event.offset;
  }
  sub.epoch = s.event.epoch;
  sub.confirmed = true;
  sub.request_id.reset();
  sub.gap_since.reset();
  s.event.resubscribed = sub.resubscribe;
  auto waiters = std::move(sub.waiters);
  sub.waiters.clear();
  for (auto& w : waiters) {
    w(s.event);
  }
  if (h_.on_subscribed) {
    h_.on_subscribed(s.event);
  }
  if (s.event.recovered == false && h_.on_resync) {
    h_.on_resync(s.event);
  }
}

void client::core::on_message(message_event& m) {
  auto i = subs_.find(m.channel);
  if (i != subs_.end()) {
    auto& sub = i->second;
    if (sub.offset) {
      if (sub.gap_since || m.offset <= *sub.offset) {
        // Waiting for the replay that fills a gap (it resends this one too), or a message
        // seen already (a replay overlapping the live stream): never delivered twice.
        return;
      }
      if (m.offset > *sub.offset + 1 && sub.confirmed && !sub.epoch.empty()) {
        // A message was lost on the way (e.g. between nodes): ask the room for what follows
        // the last offset we have; it replays from history or says recovered: false.
        gap_event g{m.channel, *sub.offset + 1, m.offset};
        sub.gap_since = clock::now();
        if (open()) {
          send_subscribe(m.channel, sub);
        }
        if (h_.on_gap) {
          h_.on_gap(g);
        }
        return;
      }
    }
    sub.offset = m.offset;
    if (sub.handlers.on_message) {
      sub.handlers.on_message(m);
      return;
    }
  }
  if (h_.on_message) {
    h_.on_message(m);
  }
}

void client::core::on_presence(presence_frame& p) {
  if (p.id && pending_.count(*p.id) > 0) {
    return on_reply(*p.id, nullptr, nullptr, &p);
  }
  if (!p.id && p.event.count) {
    // presence_count carries no id: give it to the oldest presence request of the channel.
    for (auto& [id, req] : pending_) {
      if (req.sent && req.presence_channel == p.event.channel) {
        return on_reply(id, nullptr, nullptr, &p);
      }
    }
  }
  auto i = subs_.find(p.event.channel);
  if (i != subs_.end() && i->second.handlers.on_presence) {
    i->second.handlers.on_presence(p.event);
  } else if (h_.on_presence) {
    h_.on_presence(p.event);
  }
}

void client::core::on_diff(const presence_diff_event& d) {
  auto i = subs_.find(d.channel);
  if (i != subs_.end() && i->second.handlers.on_presence_diff) {
    i->second.handlers.on_presence_diff(d);
  } else if (h_.on_presence_diff) {
    h_.on_presence_diff(d);
  }
}

void client::core::on_reply(int64_t id, const server_frame* f, const error_event* err,
                            const presence_frame* p) {
  if (auto i = pending_.find(id); i != pending_.end()) {
    auto complete = std::move(i->second.complete);
    pending_.erase(i);
    if (p != nullptr) {
      server_frame copy{*p};
      complete(&copy, err);
    } else {
      complete(f, err);
    }
    return;
  }
  if (status_request_ == id) {
    status_request_.reset();
    auto waiters = std::move(status_waiters_);
    status_waiters_.clear();
    for (auto& w : waiters) {
      w.first(err ? client_result<done>(*err) : client_result<done>(done{}));
    }
    return;
  }
  for (auto i = subs_.begin(); i != subs_.end(); ++i) {
    if (i->second.request_id != id) {
      continue;
    }
    if (err) {
      // Refused (permission, limit): the subscription is dropped, not retried.
      auto waiters = std::move(i->second.waiters);
      bool automatic = i->second.resubscribe;
      subs_.erase(i);
      for (auto& w : waiters) {
        w(*err);
      }
      if ((automatic || waiters.empty()) && h_.on_error) {
        h_.on_error(*err);
      }
    }
    return;
  }
  if (err && h_.on_error) {
    h_.on_error(*err);
  }
}

void client::core::on_reconnect_frame(const reconnect_frame& r) {
  if (!r.url.empty()) {
    if (auto u = parse_ws_url(r.url)) {
      redirect_ = std::move(u);
    } else {
      spdlog::warn("plexus client: ignoring unparsable reconnect url '{}'", r.url);
    }
  }
  redirect_after_ = r.after_ms;
  if (transport_) {
    transport_->close(1000, "reconnecting as the server asked");
  }
}

} // namespace plexus::net
