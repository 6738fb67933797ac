# Imported targets for every dependency, all from Debian packages (scripts/setup).
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# CAF 0.17 ships neither a CMake config nor a pkg-config file.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
add_library(CAF::core SHARED IMPORTED)
set_target_properties(CAF::core PROPERTIES
  IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES Threads::Threads)

find_package(Boost 1.74 REQUIRED)
find_package(msgpack CONFIG REQUIRED)
find_package(cppzmq REQUIRED)
find_package(spdlog REQUIRED)
find_package(simdjson REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)

find_path(JWT_INCLUDE_DIR jwt.h REQUIRED)
find_library(JWT_LIBRARY jwt REQUIRED)
add_library(JWT::jwt SHARED IMPORTED)
set_target_properties(JWT::jwt PROPERTIES
  IMPORTED_LOCATION "${JWT_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${JWT_INCLUDE_DIR}")

find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
add_library(CLI11::CLI11 INTERFACE IMPORTED)
set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${CLI11_INCLUDE_DIR}")

# msgpack-c pulls in ~900 Boost headers unless told not to.
add_library(plexus_msgpack INTERFACE)
target_link_libraries(plexus_msgpack INTERFACE msgpackc-cxx)
target_compile_definitions(plexus_msgpack INTERFACE MSGPACK_NO_BOOST)
