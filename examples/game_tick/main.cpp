// game_tick: a plexus node embedded in a game server. Each match is an actor of the host
// running a 60 Hz simulation and publishing its state to the players; players steer by
// publishing inputs. Try it: run, then open two WebSocket clients to ws://127.0.0.1:8090/ws,
// subscribe to match:1, publish {"dx":1} to match-input:1 and watch x grow.
#include <csignal>

#include <spdlog/spdlog.h>

#include "engine/node.hpp"
#include "examples/game_tick/match.hpp"

int main(int argc, char** argv) {
  plexus::engine::config cfg;
  cfg.node.name = "game";
  cfg.node.listen = argc > 1 ? argv[1] : "127.0.0.1:8090";
  cfg.auth.anonymous = true; // a real game passes JWTs from its login service
  plexus::actors::namespace_settings state;
  state.name = "match";
  state.history_size = 0;                             // state is re-sent every tick
  state.publish = plexus::actors::publish_rule::server; // only the simulation publishes
  state.slow_consumer = plexus::actors::slow_consumer_policy::conflate; // latest state wins
  plexus::actors::namespace_settings input;
  input.name = "match-input";
  input.presence = false;
  input.join_leave = false;
  input.history_size = 0;
  input.publish = plexus::actors::publish_rule::any;
  cfg.namespaces = {state, input};

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  plexus::engine::node node{cfg};
  plexus::engine::hooks hooks;
  hooks.on_join = [](const plexus::engine::join_event& e) {
    spdlog::info("[game] {} joined {}", e.user, e.channel);
  };
  node.set_hooks(hooks);
  node.start();
  auto match = node.system().spawn(plexus::examples::match_actor, "1", node.registry());
  spdlog::info("[game] match 1 running at {} Hz on {}", plexus::examples::match_hz, node.ws_url());
  int sig = 0;
  sigwait(&signals, &sig);
  caf::anon_send_exit(match, caf::exit_reason::user_shutdown);
  match = nullptr;
  node.stop();
  return 0;
}
