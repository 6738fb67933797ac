#include "tests/actors/actor_test_support.hpp"

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <simdjson.h>

#include "actors/messages.hpp"

namespace plexus::actors::test {

// -- vector_outbox ----------------------------------------------------------------------------

bool vector_outbox::push(const frame_ptr& f, slow_consumer_policy) {
  std::lock_guard<std::mutex> guard{mu_};
  if (close_code_ != 0) {
    return false;
  }
  frames_.push_back(format_ == wire_format::json ? f->json : f->msgpack);
  return true;
}

void vector_outbox::close(uint16_t code, const std::string&) {
  std::lock_guard<std::mutex> guard{mu_};
  close_code_ = code;
}

std::vector<std::string> vector_outbox::frames() const {
  std::lock_guard<std::mutex> guard{mu_};
  return frames_;
}

std::vector<std::string> vector_outbox::take() {
  std::lock_guard<std::mutex> guard{mu_};
  return std::exchange(frames_, {});
}

std::vector<std::string> vector_outbox::of_type(std::string_view type) const {
  std::vector<std::string> out;
  for (auto& f : frames()) {
    if (type_of(f) == type) {
      out.push_back(f);
    }
  }
  return out;
}

uint16_t vector_outbox::closed_with() const {
  std::lock_guard<std::mutex> guard{mu_};
  return close_code_;
}

// -- recorder ---------------------------------------------------------------------------------

namespace {

using never_atom = caf::atom_constant<caf::atom("never")>;

caf::behavior recorder(caf::event_based_actor* self, message_log log) {
  self->set_default_handler(
    [log](caf::scheduled_actor*, caf::message_view& mv) -> caf::result<caf::message> {
      log->push_back(mv.move_content_to_message());
      return caf::message{};
    });
  // An actor without any handler would quit at once; this one only has the default.
  return {[](never_atom) {}};
}

} // namespace

caf::actor spawn_recorder(caf::actor_system& sys, message_log log) {
  return sys.spawn(recorder, std::move(log));
}

// -- actor_test -------------------------------------------------------------------------------

actor_test::actor_test() {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.set("logger.console", caf::atom("none"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  sys = std::make_unique<caf::actor_system>(cfg);
  sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  // Time 0 would look like "never" to code that keeps a default time_point.
  sched->clock().current_time += std::chrono::hours(1);
  settings = std::make_shared<domain_settings>();
  settings->node_name = "n1";
  namespace_settings room;
  room.name = "room";
  room.history_size = 4;
  room.history_ttl_s = 60;
  room.presence_max_members = 3;
  settings->namespaces.push_back(room);
  ctx.settings = settings;
  ctx.stats = std::make_shared<metrics>();
  ctx.time = [s = sched] { return s->clock().now(); };
}

actor_test::~actor_test() {
  // The system waits for every actor on destruction: stop what the test spawned (rooms
  // spawned by a registry are linked to it) and let them all run their exits.
  for (auto& a : kept_) {
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
  kept_.clear();
  sched->run();
  // Pending timers (idle checks, counts) hold their receivers: fire them (bounded, in
  // case a periodic one survived).
  for (int i = 0; i < 100 && sched->trigger_timeouts() > 0; ++i) {
    sched->run();
  }
}

namespace_settings& actor_test::ns(const std::string& name) {
  for (auto& n : settings->namespaces) {
    if (n.name == name) {
      return n;
    }
  }
  return settings->fallback;
}

// -- JSON -------------------------------------------------------------------------------------

namespace {

bool parse(std::string_view json, simdjson::dom::parser& p, simdjson::dom::element& doc) {
  simdjson::padded_string s{json};
  return p.parse(s).get(doc) == simdjson::SUCCESS;
}

} // namespace

std::string json_str(std::string_view json, std::string_view key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  std::string_view v;
  if (!parse(json, p, doc) || doc[key].get(v) != simdjson::SUCCESS) {
    return {};
  }
  return std::string{v};
}

std::optional<int64_t> json_int(std::string_view json, std::string_view key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  int64_t v = 0;
  if (!parse(json, p, doc) || doc[key].get(v) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return v;
}

std::optional<bool> json_bool(std::string_view json, std::string_view key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  bool v = false;
  if (!parse(json, p, doc) || doc[key].get(v) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return v;
}

member_list json_members(std::string_view json, std::string_view key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  simdjson::dom::array arr;
  member_list out;
  if (!parse(json, p, doc) || doc[key].get(arr) != simdjson::SUCCESS) {
    return out;
  }
  for (auto e : arr) {
    member m;
    std::string_view v;
    if (e["user"].get(v) == simdjson::SUCCESS) {
      m.user = v;
    }
    if (e["session"].get(v) == simdjson::SUCCESS) {
      m.session = v;
    }
    if (e["node"].get(v) == simdjson::SUCCESS) {
      m.node = v;
    }
    if (e["status"].get(v) == simdjson::SUCCESS) {
      m.status = v;
    }
    simdjson::dom::element meta;
    if (e["meta"].get(meta) == simdjson::SUCCESS && !meta.is_null()) {
      m.meta = payload{wire_format::json, simdjson::minify(meta)};
    }
    out.push_back(std::move(m));
  }
  return out;
}

member make_member(const std::string& user, const std::string& session, const std::string& status) {
  member m;
  m.user = user;
  m.session = session;
  m.node = "n1";
  m.status = status;
  return m;
}

} // namespace plexus::actors::test
