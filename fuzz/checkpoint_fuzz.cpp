// Fuzzes checkpoint loading: descent::io::read_checkpoint, and load_checkpoint into a network, an
// optimizer, or a trainer that then resumes fit() from the loaded position.
//
// The first input byte picks the mode: bit 0 set, the rest is the whole file; clear, the rest is
// the payload and a valid header (magic, version, float, size, CRC-32) is put in front of it, so
// that mutations reach the parsing behind the checksum. Bits 1-2 pick what is loaded.
// Loading must succeed or throw CheckpointError; fit() after a resume may also throw the
// Trainer's std::invalid_argument or std::runtime_error (a forged NaN weight); nothing else.
//
// DESCENT_FUZZ_SEEDS=dir fuzz_checkpoint writes valid inputs of every kind into dir and exits
// (scripts/fuzz.sh seeds the corpus so).

#include <descent/io/checkpoint.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

struct Data {
  Eigen::MatrixXf x, y;
};

const Data& data() {
  static const Data d = [] {
    Data d{Eigen::MatrixXf(2, 6), Eigen::MatrixXf(1, 6)};
    for (int j = 0; j < 6; ++j) {
      d.x(0, j) = float(j) / 6 - 0.5f;
      d.x(1, j) = float(j % 2) - 0.5f;
      d.y(0, j) = float(j % 2);
    }
    return d;
  }();
  return d;
}

descent::nn::Sequential<float> network() {
  return descent::nn::make_network<float>(
      {.inputs = 2, .outputs = 2, .hidden = {3}, .dropout = 0.5}, 1);
}

descent::nn::Trainer<float> trainer(int epochs) {
  return descent::nn::Trainer<float>({.optimizer = "adam", .learning_rate = 0.01, .batch_size = 4,
                                      .epochs = epochs,
                                      .progress = descent::nn::Trainer<float>::Progress::none});
}

fs::path scratch_file() {
  return fs::temp_directory_path() / ("descent_fuzz_checkpoint." + std::to_string(::getpid()));
}

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const unsigned char* bytes, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes, 1, size, f) != size || std::fclose(f) != 0) std::abort();
}

void little_endian(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

/// Writes a seed: mode byte `mode`, then the checkpoint file (raw) or its payload.
void write_seed(const fs::path& dir, const std::string& name, const fs::path& checkpoint, unsigned mode) {
  const Bytes file = read_bytes(checkpoint);
  Bytes seed{static_cast<unsigned char>(mode)};
  const std::size_t skip = (mode & 1) ? 0 : descent::io::detail::frame_header_size;
  seed.insert(seed.end(), file.begin() + static_cast<std::ptrdiff_t>(skip), file.end());
  write_bytes(dir / name, seed.data(), seed.size());
}

void write_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path tmp = scratch_file();
  auto net = network();
  descent::io::save_checkpoint(tmp, net);
  write_seed(dir, "network", tmp, 0);
  write_seed(dir, "network_raw", tmp, 1);
  auto optimizer = descent::make_optimizer<float>("adam", "amsgrad=true");
  optimizer.add_param_group({descent::Parameter<float>{net.parameters().data(),
                                                       net.gradients().data(),
                                                       net.parameter_count(), "network"}});
  optimizer.step();
  descent::io::save_checkpoint(tmp, net, optimizer);
  write_seed(dir, "optimizer", tmp, 2);
  auto t = trainer(2);
  t.add_callback(std::make_shared<descent::nn::EarlyStopping>());
  descent::io::save_every_epoch(t, tmp);
  t.fit(net, data());
  write_seed(dir, "trainer", tmp, 4);
  write_seed(dir, "trainer_raw", tmp, 5);
  fs::remove(tmp);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("DESCENT_FUZZ_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  static const fs::path path = scratch_file();
  const unsigned mode = bytes[0];
  const std::uint8_t* body = bytes + 1;
  const std::size_t body_size = size - 1;
  if (mode & 1) {
    write_bytes(path, body, body_size);
  } else {
    Bytes file = {0x89, 'D', 'E', 'S', 'C', 'E', 'N', 'T'};
    little_endian(file, descent::io::checkpoint_version, 4);
    little_endian(file, sizeof(float), 4);
    little_endian(file, body_size, 8);
    little_endian(file, descent::io::detail::crc32(body, body_size), 4);
    little_endian(file, 0, 4);
    file.insert(file.end(), body, body + body_size);
    write_bytes(path, file.data(), file.size());
  }
  auto net = network();
  try {
    switch ((mode >> 1) & 3) {
      case 0: (void)descent::io::read_checkpoint<float>(path); break;
      case 1: {
        auto optimizer = descent::make_optimizer<float>("adam", "amsgrad=true");
        optimizer.add_param_group({descent::Parameter<float>{net.parameters().data(),
                                                             net.gradients().data(),
                                                             net.parameter_count(), "network"}});
        descent::io::load_checkpoint(path, net, optimizer);
        optimizer.step();
        break;
      }
      default: {
        auto t = trainer(3);
        t.add_callback(std::make_shared<descent::nn::EarlyStopping>());
        descent::io::load_checkpoint(path, net, t);
        try {
          t.fit(net, data());
        } catch (const std::invalid_argument&) {  // the position does not fit the data
        } catch (const std::runtime_error&) {     // forged weights made the loss NaN
        }
        break;
      }
    }
  } catch (const descent::io::CheckpointError&) {
  }
  return 0;
}
