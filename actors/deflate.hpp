#pragma once

#include <string>
#include <string_view>

namespace plexus::actors {

/// Raw deflate of one message with no context takeover and the 00 00 ff ff tail stripped:
/// the payload of a permessage-deflate frame with RSV1 set (RFC 7692 7.2.1). Because no
/// context carries over, the same bytes are valid for every recipient. Thread-safe (one
/// zlib stream per thread, reset per message).
std::string deflate_message(std::string_view in);

} // namespace plexus::actors
