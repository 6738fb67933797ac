// The request side of client::core: ids, sending, and the public operations.
#include <utility>

#include "net/client_core.hpp"

namespace plexus::net {

namespace {

error_event make_error(std::string code, std::string message) {
  return error_event{std::nullopt, std::move(code), std::move(message)};
}

/// True (and `done` failed) when the client was closed: requests are refused until the
/// next connect(). Before the first connect() they wait for it.
template <class Callback>
bool refused(bool closed, Callback& done) {
  if (closed) {
    done(make_error("closed", "the client is closed"));
  }
  return closed;
}

error_event unexpected_reply() {
  return make_error("protocol", "unexpected reply type");
}

} // namespace

int64_t client::core::next_id() {
  return ++last_id_;
}

void client::core::send_frame(std::string bytes) {
  if (!transport_) {
    return;
  }
  last_tx_ = clock::now();
  transport_->send(std::move(bytes), opts_.format == wire_format::msgpack);
}

client::core::pending&
client::core::request(int64_t id, std::string frame, bool survives_drop,
                      std::function<void(const server_frame*, const error_event*)> complete) {
  pending& p = pending_[id];
  p.complete = std::move(complete);
  p.deadline = clock::now() + opts_.request_timeout;
  p.survives_drop = survives_drop;
  if (open()) {
    p.sent = true;
    send_frame(std::move(frame));
  } else {
    p.frame = std::move(frame);
    unsent_.push_back(id);
  }
  if (started_) {
    arm_tick();
  }
  return p;
}

void client::core::send_subscribe(const std::string& channel, subscription& sub) {
  const int64_t id = next_id();
  sub.request_id = id;
  sub.resubscribe = sub.confirmed;
  const bool resume = sub.offset.has_value() && !sub.epoch.empty();
  send_frame(encode_subscribe(opts_.format, id, channel, resume ? sub.offset : std::nullopt,
                              resume ? sub.epoch : ""));
}

void client::core::send_status() {
  const int64_t id = next_id();
  status_request_ = id;
  send_frame(encode_status(opts_.format, id, presence_status_->first, presence_status_->second));
}

void client::core::fail_all(const std::string& code, const std::string& why) {
  const error_event err = make_error(code, why);
  auto pending = std::move(pending_);
  pending_.clear();
  unsent_.clear();
  for (auto& [id, p] : pending) {
    p.complete(nullptr, &err);
  }
  std::vector<result_callback<subscribed_event>> sub_waiters;
  for (auto& [channel, sub] : subs_) {
    for (auto& w : sub.waiters) {
      sub_waiters.push_back(std::move(w));
    }
  }
  // A closed client starts from nothing when connected again.
  subs_.clear();
  presence_status_.reset();
  status_request_.reset();
  auto status_waiters = std::move(status_waiters_);
  status_waiters_.clear();
  for (auto& w : sub_waiters) {
    w(err);
  }
  for (auto& w : status_waiters) {
    w.first(err);
  }
}

void client::core::subscribe(std::string channel, subscribe_options opts,
                             result_callback<subscribed_event> done) {
  if (refused(stopping_, done)) {
    return;
  }
  if (opts.since.has_value() != !opts.epoch.empty()) {
    done(make_error("bad_request", "since and epoch go together"));
    return;
  }
  subscription& sub = subs_[channel];
  sub.handlers = std::move(opts.handlers);
  if (opts.since) {
    sub.offset = opts.since;
    sub.epoch = std::move(opts.epoch);
  }
  sub.waiters.push_back(std::move(done));
  sub.deadline = clock::now() + opts_.request_timeout;
  if (open()) {
    send_subscribe(channel, sub);
  }
  if (started_) {
    arm_tick();
  }
}

void client::core::unsubscribe(std::string channel, result_callback<done> done) {
  if (refused(stopping_, done)) {
    return;
  }
  auto i = subs_.find(channel);
  if (i == subs_.end()) {
    done(make_error("not_subscribed", "not subscribed to '" + channel + "'"));
    return;
  }
  for (auto& w : i->second.waiters) {
    w(make_error("unsubscribed", "unsubscribed before the subscribe completed"));
  }
  subs_.erase(i);
  if (!open()) {
    done(plexus::net::done{}); // no session on the server: nothing to tell it
    return;
  }
  const int64_t id = next_id();
  // A drop completes it too: the channel is not re-subscribed after the reconnect.
  request(id, encode_unsubscribe(opts_.format, id, channel), true,
          [done = std::move(done)](const server_frame*, const error_event* err) {
            done(err ? client_result<plexus::net::done>(*err)
                     : client_result<plexus::net::done>(plexus::net::done{}));
          });
}

void client::core::publish(std::string channel, payload data, result_callback<uint64_t> done) {
  if (refused(stopping_, done)) {
    return;
  }
  if (auto problem = check_payload(data); !problem.empty()) {
    done(make_error("invalid_data", problem));
    return;
  }
  const int64_t id = next_id();
  request(id, encode_publish(opts_.format, id, channel, data), false,
          [done = std::move(done)](const server_frame* f, const error_event* err) {
            if (err) {
              return done(*err);
            }
            const auto* ack = f ? std::get_if<ack_frame>(f) : nullptr;
            if (!ack) {
              return done(unexpected_reply());
            }
            done(ack->offset.value_or(0));
          });
}

void client::core::presence(std::string channel, result_callback<presence_event> done) {
  if (refused(stopping_, done)) {
    return;
  }
  const int64_t id = next_id();
  pending& p = request(id, encode_presence(opts_.format, id, channel), false,
                       [done = std::move(done)](const server_frame* f, const error_event* err) {
                         if (err) {
                           return done(*err);
                         }
                         const auto* pf = f ? std::get_if<presence_frame>(f) : nullptr;
                         if (!pf) {
                           return done(unexpected_reply());
                         }
                         done(pf->event);
                       });
  p.presence_channel = std::move(channel);
}

void client::core::set_status(std::string status, std::optional<payload> meta,
                              result_callback<done> done) {
  if (refused(stopping_, done)) {
    return;
  }
  if (meta) {
    if (auto problem = check_payload(*meta); !problem.empty()) {
      done(make_error("invalid_data", "meta: " + problem));
      return;
    }
  }
  presence_status_.emplace(std::move(status), std::move(meta));
  status_waiters_.emplace_back(std::move(done), clock::now() + opts_.request_timeout);
  if (open()) {
    send_status();
  }
  if (started_) {
    arm_tick();
  }
}

void client::core::ping(result_callback<done> done) {
  if (refused(stopping_, done)) {
    return;
  }
  const int64_t id = next_id();
  request(id, encode_ping(opts_.format, id), false,
          [done = std::move(done)](const server_frame*, const error_event* err) {
            done(err ? client_result<plexus::net::done>(*err)
                     : client_result<plexus::net::done>(plexus::net::done{}));
          });
}

std::vector<client::channel_position> client::core::positions() const {
  std::vector<channel_position> out;
  out.reserve(subs_.size());
  for (const auto& [channel, sub] : subs_) {
    out.push_back(channel_position{channel, sub.offset, sub.epoch});
  }
  return out;
}

} // namespace plexus::net
