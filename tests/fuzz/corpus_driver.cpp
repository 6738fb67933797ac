// Runs a libFuzzer target's `LLVMFuzzerTestOneInput` over files, without libFuzzer: the
// normal (g++) test suite links each target with this `main` and replays its seed corpus,
// so the targets' code and their invariant checks run on every build.
//
//   plexus_fuzz_<target>_corpus DIR_OR_FILE...
//
// Every regular file under each directory (recursively) is one input; a target reports a
// broken invariant by aborting, so a non-zero exit is a failure. Exits 1 when no input was
// found (a misplaced corpus must not pass silently).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

namespace fs = std::filesystem;

bool run_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "corpus_driver: cannot read %s\n", file.c_str());
    return false;
  }
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  // A copy the size of the input, as libFuzzer hands it over: reads past it are caught by
  // sanitizers when the driver itself is built with them.
  std::vector<uint8_t> data(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(data.empty() ? nullptr : data.data(), data.size());
  return true;
}

} // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) {
    LLVMFuzzerInitialize(&argc, &argv);
  }
  std::size_t inputs = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    fs::path p{argv[i]};
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      ok = run_file(p) && ok;
      ++inputs;
      continue;
    }
    if (!fs::is_directory(p, ec)) {
      std::fprintf(stderr, "corpus_driver: %s is neither a file nor a directory\n", argv[i]);
      ok = false;
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(p, ec)) {
      if (entry.is_regular_file()) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end()); // a stable order makes failures reproducible
    for (const auto& f : files) {
      // Named before it runs: an abort in the target shows which input it was.
      std::printf("%s\n", f.c_str());
      std::fflush(stdout);
      ok = run_file(f) && ok;
      ++inputs;
    }
  }
  std::printf("corpus_driver: %zu inputs\n", inputs);
  if (inputs == 0) {
    std::fprintf(stderr, "corpus_driver: no inputs\n");
    return 1;
  }
  return ok ? 0 : 1;
}
