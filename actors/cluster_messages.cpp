#include "actors/cluster_messages.hpp"

namespace plexus::actors {

const char* to_string(room_op op) {
  switch (op) {
    case room_op::publish:
      return "publish";
    case room_op::stream:
      return "stream";
    case room_op::replicate:
      return "replicate";
    case room_op::presence:
      return "presence";
    case room_op::member:
      return "member";
    case room_op::attach:
      return "attach";
    case room_op::detach:
      return "detach";
    case room_op::snapshot:
      return "snapshot";
    case room_op::claim:
      return "claim";
    case room_op::handoff:
      return "handoff";
    case room_op::sync:
      return "sync";
    case room_op::drop:
      return "drop";
    case room_op::reattach:
      return "reattach";
    case room_op::reply:
      return "reply";
  }
  return "unknown";
}

const char* to_string(room_status s) {
  switch (s) {
    case room_status::ok:
      return "ok";
    case room_status::not_owner:
      return "not_owner";
    case room_status::wait:
      return "wait";
    case room_status::none:
      return "none";
    case room_status::need_sync:
      return "need_sync";
    case room_status::refused:
      return "refused";
  }
  return "unknown";
}

} // namespace plexus::actors
