// Eigen-only twin of examples/fashion_mnist.cpp: the same job written with Eigen and zlib alone,
// the baseline that example's compile time is measured against. Reads the gzip IDX files, trains
// a 784-256-128-10 relu network with softmax cross-entropy and Adam (1e-3, batch 64) and prints
// the test accuracy after every epoch.
//
//   fashion_mnist_eigen [--epochs N] [--train-subset N] [--data DIR]
#include <Eigen/Core>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using Matrix = Eigen::MatrixXf;

// The whole of a gzip file.
std::vector<unsigned char> read_gzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error("cannot open " + path);
  std::vector<unsigned char> bytes;
  unsigned char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0) {
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  gzclose(file);
  if (n < 0) throw std::runtime_error("cannot read " + path);
  return bytes;
}

// An IDX file of unsigned bytes: its dimensions (big-endian after the magic) and its values.
std::vector<unsigned char> read_idx(const std::string& path, std::vector<std::uint32_t>& dims) {
  std::vector<unsigned char> bytes = read_gzip(path);
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08) {
    throw std::runtime_error(path + " is not an IDX file of unsigned bytes");
  }
  const std::size_t header = 4 + 4 * std::size_t{bytes[3]};
  std::size_t count = 1;
  dims.clear();
  for (std::size_t i = 4; i < header && i + 3 < bytes.size(); i += 4) {
    dims.push_back(std::uint32_t{bytes[i]} << 24 | std::uint32_t{bytes[i + 1]} << 16 |
                   std::uint32_t{bytes[i + 2]} << 8 | bytes[i + 3]);
    count *= dims.back();
  }
  if (dims.size() != bytes[3] || bytes.size() != header + count) {
    throw std::runtime_error(path + " has the wrong size");
  }
  return {bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end()};
}

// Images as columns of pixels scaled to [0, 1], and their labels; at most `limit` of them.
struct Dataset {
  Matrix x;
  std::vector<int> labels;
};

Dataset load(const std::string& dir, const std::string& prefix, std::size_t limit) {
  std::vector<std::uint32_t> dims, label_dims;
  const auto pixels = read_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz", dims);
  const auto labels = read_idx(dir + "/" + prefix + "-labels-idx1-ubyte.gz", label_dims);
  if (dims.size() != 3 || label_dims.size() != 1 || dims[0] != label_dims[0]) {
    throw std::runtime_error("the " + prefix + " images and labels do not match");
  }
  const Eigen::Index n = std::min<Eigen::Index>(dims[0], static_cast<Eigen::Index>(limit));
  const Eigen::Index size = Eigen::Index{dims[1]} * dims[2];
  Dataset d{Matrix(size, n), std::vector<int>(labels.begin(), labels.begin() + n)};
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < size; ++i) d.x(i, j) = pixels[j * size + i] / 255.0f;
  }
  return d;
}

// One Dense layer (y = W x + b) with its gradients and Adam's moments (PyTorch's rule).
struct Dense {
  Matrix w, b, gw, gb, mw, mb, vw, vb;
  Matrix input;  // saved by forward for backward

  Dense(Eigen::Index in, Eigen::Index out, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-1, 1);
    const float bound = std::sqrt(6.0f / static_cast<float>(in));  // He-uniform
    w = Matrix::NullaryExpr(out, in, [&] { return bound * u(rng); });
    b = gb = mb = vb = Matrix::Zero(out, 1);
    gw = mw = vw = Matrix::Zero(out, in);
  }
  Matrix forward(const Matrix& x) {
    input = x;
    return (w * x).colwise() + b.col(0);
  }
  Matrix backward(const Matrix& dy) {
    gw = dy * input.transpose();
    gb = dy.rowwise().sum();
    return w.transpose() * dy;
  }
  static void adam(Matrix& p, const Matrix& g, Matrix& m, Matrix& v, float lr, int t) {
    m = 0.9f * m + 0.1f * g;
    v = 0.999f * v + 0.001f * g.cwiseAbs2();
    const float c1 = 1 - std::pow(0.9f, t), c2 = 1 - std::pow(0.999f, t);
    p.array() -= lr * (m.array() / c1) / ((v.array() / c2).sqrt() + 1e-8f);
  }
  void step(float lr, int t) {
    adam(w, gw, mw, vw, lr, t);
    adam(b, gb, mb, vb, lr, t);
  }
};

// Dense layers with relu between them; the last one gives the logits.
struct Network {
  std::vector<Dense> layers;
  std::vector<Matrix> outputs;  // after each hidden relu, for its derivative

  Network(const std::vector<Eigen::Index>& units, std::mt19937& rng) {
    for (std::size_t i = 0; i + 1 < units.size(); ++i) {
      layers.emplace_back(units[i], units[i + 1], rng);
    }
  }
  Matrix forward(Matrix x) {
    outputs.clear();
    for (std::size_t i = 0; i < layers.size(); ++i) {
      x = layers[i].forward(x);
      if (i + 1 < layers.size()) outputs.push_back(x = x.cwiseMax(0));
    }
    return x;
  }
  void backward(Matrix dy) {
    for (std::size_t i = layers.size(); i-- > 0;) {
      dy = layers[i].backward(dy);
      if (i > 0) dy = dy.cwiseProduct((outputs[i - 1].array() > 0).cast<float>().matrix());
    }
  }
};

// Column-wise softmax of the logits.
Matrix softmax(const Matrix& z) {
  const Matrix e = (z.rowwise() - z.colwise().maxCoeff()).array().exp();
  return e.array().rowwise() / e.colwise().sum().array();
}

double accuracy(Network& net, const Dataset& d) {
  int correct = 0;
  for (Eigen::Index start = 0; start < d.x.cols(); start += 1000) {
    const Eigen::Index n = std::min<Eigen::Index>(1000, d.x.cols() - start);
    const Matrix z = net.forward(d.x.middleCols(start, n));
    for (Eigen::Index j = 0; j < n; ++j) {
      Eigen::Index predicted = 0;
      z.col(j).maxCoeff(&predicted);
      correct += predicted == d.labels[start + j];
    }
  }
  return static_cast<double>(correct) / static_cast<double>(d.x.cols());
}

int main(int argc, char** argv) {
  int epochs = 3;
  std::size_t subset = 60000;
  std::string dir = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--epochs") epochs = std::atoi(argv[i + 1]);
    else if (flag == "--train-subset") subset = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--data") dir = argv[i + 1];
    else return std::fprintf(stderr, "unknown flag %s\n", argv[i]), 2;
  }
  if (argc % 2 == 0) return std::fprintf(stderr, "flag %s needs a value\n", argv[argc - 1]), 2;

  try {
    const Dataset train = load(dir, "train", subset), test = load(dir, "t10k", 10000);
    std::mt19937 rng(0);
    Network net({784, 256, 128, 10}, rng);
    std::vector<Eigen::Index> order(train.x.cols());
    std::iota(order.begin(), order.end(), 0);
    int t = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      std::shuffle(order.begin(), order.end(), rng);
      double loss = 0;
      for (std::size_t start = 0; start < order.size(); start += 64) {
        const Eigen::Index n = std::min<Eigen::Index>(64, order.size() - start);
        Matrix x(784, n);
        for (Eigen::Index j = 0; j < n; ++j) x.col(j) = train.x.col(order[start + j]);
        Matrix dz = softmax(net.forward(x));
        for (Eigen::Index j = 0; j < n; ++j) {
          const int label = train.labels[order[start + j]];
          loss -= std::log(std::max(dz(label, j), 1e-30f));
          dz(label, j) -= 1;
        }
        net.backward(dz / static_cast<float>(n));
        ++t;
        for (auto& layer : net.layers) layer.step(1e-3f, t);
      }
      std::printf("epoch %d  loss %.4f  test accuracy %.4f\n", epoch,
                  loss / static_cast<double>(order.size()), accuracy(net, test));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist_eigen: %s\n", e.what());
    return 1;
  }
}
