#include "actors/error.hpp"

#include <caf/sec.hpp>

namespace plexus::actors {

errc code_of(const caf::error& err) {
  if (err.category() == error_category) {
    return static_cast<errc>(err.code());
  }
  return errc::internal;
}

std::string message_of(const caf::error& err) {
  if (err.category() == error_category) {
    const auto& ctx = err.context();
    if (ctx.match_elements<std::string>()) {
      return ctx.get_as<std::string>(0);
    }
    return to_string(static_cast<errc>(err.code()));
  }
  if (err.category() == caf::atom("system")) {
    return "internal error (" + caf::to_string(static_cast<caf::sec>(err.code())) + ")";
  }
  return "internal error";
}

} // namespace plexus::actors
