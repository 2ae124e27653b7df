#pragma once
// Matrix products for the layers, with their working memory allocated once.
//
// Eigen's `C.noalias() = A * B` packs blocks of A and B into scratch buffers, which for layer-sized
// products are larger than its stack limit, so every product would allocate. Gemm keeps Eigen's
// own kernel (internal::general_matrix_matrix_product) but owns the packing buffers, sized once for
// the largest product a layer will do: the training step then allocates nothing.

#include <Eigen/Core>

#include <memory>

namespace descent::nn::detail {

template <class Scalar>
class Gemm {
 public:
  /// Room for products whose result is at most max_rows x max_cols with inner size depth.
  Gemm(Eigen::Index max_rows, Eigen::Index max_cols, Eigen::Index depth)
      : m_blocking(std::make_unique<Blocking>(max_rows, max_cols, depth, 1, true)),
        m_rows(max_rows),
        m_cols(max_cols),
        m_depth(depth) {
    m_blocking->allocateAll();
  }

  /// c = op(a) * op(b), or c += op(a) * op(b) with accumulate. a and b are column-major with
  /// leading dimensions lda and ldb; op transposes when TransA / TransB.
  template <bool TransA, bool TransB, class C>
  void run(C&& c, const Scalar* a, Eigen::Index lda, const Scalar* b, Eigen::Index ldb,
           Eigen::Index depth, bool accumulate = false) {
    eigen_assert(c.rows() <= m_rows && c.cols() <= m_cols && depth <= m_depth);
    if (!accumulate) c.setZero();
    if (c.rows() == 0 || c.cols() == 0 || depth == 0) return;
    using Product = Eigen::internal::general_matrix_matrix_product<
        Eigen::Index, Scalar, TransA ? Eigen::RowMajor : Eigen::ColMajor, false, Scalar,
        TransB ? Eigen::RowMajor : Eigen::ColMajor, false, Eigen::ColMajor, 1>;
    Product::run(c.rows(), c.cols(), depth, a, lda, b, ldb, c.data(), 1, c.outerStride(), Scalar(1),
                 *m_blocking, nullptr);
  }

 private:
  using Blocking =
      Eigen::internal::gemm_blocking_space<Eigen::ColMajor, Scalar, Scalar, Eigen::Dynamic,
                                           Eigen::Dynamic, Eigen::Dynamic>;
  std::unique_ptr<Blocking> m_blocking;
  Eigen::Index m_rows, m_cols, m_depth;
};

}  // namespace descent::nn::detail
