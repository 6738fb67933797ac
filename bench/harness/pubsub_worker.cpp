#include "bench/harness/pubsub_worker.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "bench/harness/clock.hpp"

namespace plexus::bench {

std::size_t pubsub_plan::step_of(uint64_t seq) const {
  for (std::size_t i = 0; i + 1 < steps.size(); ++i) {
    if (seq < steps[i + 1].first_seq) {
      return i;
    }
  }
  return steps.empty() ? 0 : steps.size() - 1;
}

int64_t pubsub_plan::intended_offset(uint64_t seq) const {
  const auto& s = steps[step_of(seq)];
  return s.start_offset
         + static_cast<int64_t>(static_cast<double>(seq - s.first_seq) * 1e9 / s.rate);
}

pubsub_shared::pubsub_shared(const pubsub_plan& p)
  : plan(p), proto(peer_kind::plexus),
    ready_per_channel(new std::atomic<uint32_t>[p.channels.size()]),
    seq_counts(new std::atomic<uint32_t>[p.window > 0 ? p.total_messages : 1]) {
  for (std::size_t i = 0; i < p.channels.size(); ++i) {
    ready_per_channel[i].store(0);
  }
  for (std::size_t i = 0; i < (p.window > 0 ? p.total_messages : 1); ++i) {
    seq_counts[i].store(0);
  }
}

pubsub_worker::pubsub_worker(pubsub_shared& sh, std::size_t index, std::size_t max_pending)
  : step_hist(sh.plan.steps.size()), step_deliveries(sh.plan.steps.size(), 0),
    step_first_rx(sh.plan.steps.size(), 0), step_last_rx(sh.plan.steps.size(), 0),
    loop(*this, max_pending), sh_(sh), index_(index) {
  data_.reserve(sh.plan.payload + 64);
  frame_.reserve(sh.plan.payload + 256);
}

void pubsub_worker::add_subscriber(const endpoint& ep, std::size_t i, uint32_t source_ip) {
  bool slow = sh_.plan.is_slow(i);
  auto& c = loop.open(ep, slow ? sh_.plan.slow_rcvbuf : 0, source_ip);
  c.id = static_cast<uint32_t>(i);
  c.group = static_cast<uint32_t>(sh_.plan.channel_of_subscriber(i));
  c.role = subscriber_role;
  c.slow = slow;
  if (slow) {
    slow_.push_back(&c);
  }
}

void pubsub_worker::add_publisher(const endpoint& ep, uint32_t source_ip) {
  auto& c = loop.open(ep, 0, source_ip);
  c.role = publisher_role;
  c.id = static_cast<uint32_t>(pubs_.size());
  pubs_.push_back(&c);
}

void pubsub_worker::run() {
  while (sh_.phase.load(std::memory_order_acquire) != pubsub_phase::stop) {
    loop.run_once(1);
    tick(now_ns());
  }
}

void pubsub_worker::became_ready(connection& c) {
  if (c.ready) {
    return;
  }
  c.ready = true;
  c.received = 0;
  sh_.ready.fetch_add(1, std::memory_order_relaxed);
  sh_.settled.fetch_add(1, std::memory_order_relaxed);
  if (c.role == subscriber_role) {
    if (c.slow) {
      c.pause_reading();
    } else {
      sh_.ready_per_channel[c.group].fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void pubsub_worker::subscribe(connection& c, std::string_view welcome) {
  const auto& ch = sh_.plan.channels[c.group];
  if (!sh_.proto.needs_subscribe_frame()) {
    became_ready(c);
    return;
  }
  c.send_text(sh_.proto.subscribe_frame(ch, 1));
  if (sh_.plan.personal) {
    auto user = find_str(welcome, "\"user\":\"");
    if (!user.empty()) {
      c.send_text(sh_.proto.subscribe_frame("user:" + std::string(user), 2));
    }
  }
}

void pubsub_worker::on_open(connection& c, int64_t) {
  auto hello = sh_.proto.on_open_frame();
  if (!hello.empty()) {
    c.send_text(hello);
  }
  if (sh_.proto.ready_on_open()) {
    if (c.role == publisher_role) {
      became_ready(c);
    } else {
      subscribe(c, {});
    }
  }
}

void pubsub_worker::on_message(connection& c, std::string_view msg, int64_t now) {
  auto kind = sh_.proto.classify(msg);
  switch (kind) {
    case msg_kind::message:
      if (c.role == subscriber_role) {
        deliver(c, msg, now);
      }
      return;
    case msg_kind::welcome:
      if (c.role == publisher_role) {
        became_ready(c);
      } else if (!c.ready && c.received == 0) {
        subscribe(c, msg);
      }
      return;
    case msg_kind::subscribed: {
      std::size_t need = 1 + (sh_.plan.personal && sh_.proto.kind() == peer_kind::plexus ? 1 : 0);
      if (!c.ready && ++c.received >= need) {
        became_ready(c);
      }
      return;
    }
    case msg_kind::ping:
      c.send_text(sh_.proto.pong_frame());
      return;
    case msg_kind::error:
      if (errors++ == 0) {
        spdlog::warn("loop {}: first error frame: {}", index_, msg.substr(0, 200));
      }
      if (!c.ready && c.role == subscriber_role) {
        // A refused personal channel still leaves the room subscription measurable.
        std::size_t need = 1 + (sh_.plan.personal ? 1 : 0);
        if (++c.received >= need) {
          became_ready(c);
        }
      }
      return;
    default:
      return;
  }
}

void pubsub_worker::deliver(connection& c, std::string_view msg, int64_t now) {
  ++c.received;
  sh_.delivered.fetch_add(1, std::memory_order_relaxed);
  int64_t t = 0;
  int64_t s = 0;
  if (!find_stamp(msg, t, s) || static_cast<uint64_t>(s) >= sh_.plan.total_messages) {
    ++foreign;
    return;
  }
  auto seq = static_cast<uint64_t>(s);
  auto lat = now - t;
  auto step = sh_.plan.step_of(seq);
  if (!c.slow) {
    step_hist[step].record(lat);
    ++step_deliveries[step];
    if (step_first_rx[step] == 0) {
      step_first_rx[step] = now;
    }
    step_last_rx[step] = now;
    auto t0 = sh_.t0.load(std::memory_order_relaxed);
    auto w = static_cast<std::size_t>(std::max<int64_t>(0, t - t0) / sh_.plan.window_ns);
    if (w < 600) {
      if (window_hist.size() <= w) {
        window_hist.resize(w + 1);
      }
      window_hist[w].record(lat);
    }
  }
  if (sh_.plan.window > 0) {
    sh_.seq_counts[seq].fetch_add(1, std::memory_order_relaxed);
  }
  auto prev = sh_.interval_max_ns.load(std::memory_order_relaxed);
  while (lat > prev
         && !sh_.interval_max_ns.compare_exchange_weak(prev, lat, std::memory_order_relaxed)) {
  }
}

void pubsub_worker::on_closed(connection& c, int64_t) {
  if (!c.ready) {
    ++failed_connects;
    sh_.settled.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (c.slow) {
    ++slow_close_codes[c.close_code];
    sh_.slow_closed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (sh_.phase.load(std::memory_order_relaxed) != pubsub_phase::stop) {
    ++unexpected_closes;
    ++close_codes[c.close_code];
  }
}

void pubsub_worker::tick(int64_t now) {
  auto phase = sh_.phase.load(std::memory_order_acquire);
  if (phase == pubsub_phase::publish && !pubs_.empty()
      && !sh_.publishing_done.load(std::memory_order_relaxed)) {
    if (sh_.plan.window > 0) {
      publish_window(now);
    } else {
      publish_due(now);
    }
  }
  if (phase == pubsub_phase::resume_slow && !resumed_) {
    resumed_ = true;
    for (auto* c : slow_) {
      c->resume_reading();
    }
  }
}

void pubsub_worker::send_one(uint64_t seq, int64_t stamp) {
  static const std::string pad(1 << 20, 'x');
  data_.assign("{\"t\":");
  data_ += std::to_string(stamp);
  data_ += ",\"s\":";
  data_ += std::to_string(seq);
  data_ += ",\"p\":\"";
  std::size_t base = data_.size() + 2;
  auto want = std::min<std::size_t>(sh_.plan.payload, pad.size());
  if (want > base) {
    data_.append(pad, 0, want - base);
  }
  data_ += "\"}";
  frame_.clear();
  const auto& ch = sh_.plan.channels[seq % sh_.plan.channels.size()];
  sh_.proto.append_publish(frame_, ch, data_);
  auto* p = pubs_[seq % pubs_.size()];
  if (p->state == conn_state::open) {
    p->queue(ws_op::text, frame_);
  }
  sh_.published.fetch_add(1, std::memory_order_relaxed);
}

void pubsub_worker::publish_due(int64_t now) {
  const auto& plan = sh_.plan;
  auto t0 = sh_.t0.load(std::memory_order_relaxed);
  bool any = false;
  while (next_seq_ < plan.total_messages) {
    auto at = t0 + plan.intended_offset(next_seq_);
    if (at > now) {
      loop.wake_at(at);
      break;
    }
    // Stamped with the intended time, not the actual one: a late send (our own hiccup or
    // back-pressure from the server) then shows up as latency instead of being hidden.
    send_one(next_seq_, at);
    ++next_seq_;
    any = true;
  }
  if (any) {
    for (auto* p : pubs_) {
      p->flush();
    }
  }
  if (next_seq_ >= plan.total_messages) {
    sh_.publishing_done.store(true, std::memory_order_release);
  }
}

void pubsub_worker::publish_window(int64_t now) {
  const auto& plan = sh_.plan;
  auto channels = plan.channels.size();
  while (completed_ < next_seq_
         && sh_.seq_counts[completed_].load(std::memory_order_relaxed)
              >= sh_.expected[completed_ % channels]) {
    ++completed_;
  }
  bool any = false;
  while (next_seq_ < plan.total_messages && next_seq_ - completed_ < plan.window) {
    send_one(next_seq_, now);
    ++next_seq_;
    any = true;
  }
  if (any) {
    for (auto* p : pubs_) {
      p->flush();
    }
  }
  if (next_seq_ >= plan.total_messages) {
    sh_.publishing_done.store(true, std::memory_order_release);
  }
}

} // namespace plexus::bench
