#pragma once
// The one loop every optimizer runs: walk param, grad and the state buffers together in chunks
// small enough to stay in L1, and hand each chunk to the optimizer's update as Eigen arrays.
//
// An update writes several arrays (moments, then the parameter). Written as whole-tensor Eigen
// expressions that would be one pass per array; run chunk by chunk, every array is read from and
// written to memory once, so a step costs one fused pass while each line stays a plain array
// expression that Eigen vectorizes (sqrt and division included, without special flags).

#include <Eigen/Core>
#include <descent/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace descent {

/// Storage for optimizer state: one flat array per buffer, in the parameter's storage order.
template <class Scalar>
using Buffer = Eigen::Array<Scalar, Eigen::Dynamic, 1>;

namespace detail {

/// Elements per chunk: 4 KiB of each stream, so param, grad and three buffers fit in L1 together.
template <class Scalar>
inline constexpr Eigen::Index chunk_size = 4096 / static_cast<Eigen::Index>(sizeof(Scalar));

template <class Xpr>
bool is_contiguous(const Xpr& x) {
  return x.innerStride() == 1 && (x.outerSize() <= 1 || x.outerStride() == x.innerSize());
}

template <class P, class G>
void check_shapes(std::string_view who, const Eigen::DenseBase<P>& param,
                  const Eigen::DenseBase<G>& grad) {
  if (param.rows() == grad.rows() && param.cols() == grad.cols()) return;
  std::ostringstream msg;
  msg << "descent::" << who << "::step: grad is " << grad.rows() << "x" << grad.cols()
      << " but param is " << param.rows() << "x" << param.cols();
  throw InvalidArgument(msg.str());
}

template <class Scalar>
void check_buffer(std::string_view who, std::string_view name, const Buffer<Scalar>& buffer,
                  Eigen::Index size) {
  if (buffer.size() == size) return;
  std::ostringstream msg;
  msg << "descent::" << who << "::step: state." << name << " holds " << buffer.size()
      << " elements but param has " << size << " (was the state made by init() for this param?)";
  throw InvalidArgument(msg.str());
}

/// The largest share when n things are split into `parts`.
inline Eigen::Index part_share(Eigen::Index n, int parts) { return (n + parts - 1) / parts; }

/// Where part p's share of n things split into `parts` begins, and how many it has.
inline std::pair<Eigen::Index, Eigen::Index> part_range(Eigen::Index n, int parts, int p) {
  const Eigen::Index size = part_share(n, parts), begin = std::min(n, p * size);
  return {begin, std::min(n, begin + size) - begin};
}

/// A stretch of a tensor that a step team splits by units: part p updates the units
/// part_range(units, parts, p), unit_size elements each, of the elements from `offset` on.
struct StepSegment {
  Eigen::Index offset = 0;
  Eigen::Index units = 0;
  Eigen::Index unit_size = 1;
};

}  // namespace detail

/// Threads a step may split its chunk walk over, handed to step() explicitly (the typed classes'
/// last argument, Optimizer::step's argument); without one a step runs on the calling thread.
/// descent::nn::Sequential::step makes one of its own threads for its parameter arena.
///
/// `run(self, task, context)` calls task(context, part) for every part in 0 .. parts-1 at the same
/// time and returns when all are done. A tensor is split into equal runs, except the one tensor at
/// `tensor` with `tensor_size` elements: that one by `segments`, which cover it in order (a
/// network's parameter arena, split as its threads split the gradients, so each updates what it
/// wrote). Every update works element by element, so the result does not depend on the team.
struct StepTeam {
  void* self = nullptr;                                                        ///< the thread pool
  int parts = 1;                                                               ///< threads, >= 1
  void (*run)(void* self, void (*task)(void*, int), void* context) = nullptr;  ///< runs the parts
  const void* tensor = nullptr;                   ///< the tensor split by segments, or null
  Eigen::Index tensor_size = 0;                   ///< its size
  const detail::StepSegment* segments = nullptr;  ///< how to split it
  std::size_t segment_count = 0;                  ///< how many segments
};

namespace detail {

/// Chunks per part below which a walk is not worth splitting (a dispatch costs about a microsecond,
/// eight chunks of Adam about five).
inline constexpr Eigen::Index min_chunks_per_part = 8;

/// Runs an update on one chunk. Never inlined, so the update is compiled once per optimizer and
/// Scalar however many tensor types step() sees, and GCC does not analyse it for a fixed-size
/// param's size (Eigen's packet loops, dead at that size, would draw false -Warray-bounds).
template <class Update, class... Chunks>
[[gnu::noinline]] void update_chunk(const Update& update, Chunks... chunks) {
  update(chunks...);
}

/// The chunk walk of for_each_chunk, for a grad that is safe to read lazily.
template <class P, class G, class Update, class... S>
void for_each_chunk_of(const StepTeam* team, Eigen::DenseBase<P>& param_base,
                       const Eigen::DenseBase<G>& grad_base, Update&& update, S*... state) {
  using T = typename P::Scalar;
  static_assert((std::is_same_v<T, S> && ...), "state buffers must match the param's Scalar");
  static_assert(bool(P::Flags & Eigen::DirectAccessBit) && bool(P::Flags & Eigen::LvalueBit),
                "descent: param must be a writable Eigen object with direct memory access "
                "(Matrix, Array, Map, Ref, Block)");
  using Vec = Buffer<T>;
  using Contiguous = Eigen::Map<Vec>;
  using Strided = Eigen::Map<Vec, Eigen::Unaligned, Eigen::InnerStride<>>;
  using ConstContiguous = Eigen::Map<const Vec>;
  using ConstStrided = Eigen::Map<const Vec, Eigen::Unaligned, Eigen::InnerStride<>>;
  constexpr Eigen::Index chunk = chunk_size<T>;

  P& param = param_base.derived();
  const G& grad = grad_base.derived();
  if (param.size() == 0) return;

  // The grad can be read in place when it lays its elements out like the param does.
  constexpr bool grad_direct = bool(G::Flags & Eigen::DirectAccessBit);
  bool grad_in_place = false;
  bool grad_contiguous = false;
  if constexpr (grad_direct) {
    grad_in_place = (P::IsVectorAtCompileTime && G::IsVectorAtCompileTime) ||
                    (bool(P::IsRowMajor) == bool(G::IsRowMajor));
    grad_contiguous = is_contiguous(grad);
  }
  // A contiguous param is walked as one long vector, else inner vector by inner vector.
  const bool flat = is_contiguous(param) && (!grad_in_place || grad_contiguous);
  const Eigen::Index inner = flat ? param.size() : param.innerSize();
  const Eigen::Index outer = flat ? 1 : param.outerSize();
  const Eigen::Index p_stride = param.innerStride();

  // Element k of inner vector j as (row, col) of the param; used when grad is an expression.
  const auto position = [&](Eigen::Index j, Eigen::Index k) {
    Eigen::Index in = k, out = j;
    if (flat) {
      in = k % param.innerSize();
      out = k / param.innerSize();
    }
    return P::IsRowMajor ? std::pair{out, in} : std::pair{in, out};
  };

  // Contiguous param, grad and state, with a step team: each part walks its share of every
  // segment (a tensor without segments is one segment of single elements). Every update works
  // element by element, so the result is the same as on one thread.
  if constexpr (grad_direct) {
    if (team != nullptr && team->parts > 1 && flat && grad_in_place && grad_contiguous &&
        inner >= team->parts * min_chunks_per_part * chunk) {
      const StepSegment whole{0, inner, 1};
      const bool by_segments = team->tensor == param.data() && team->tensor_size == inner;
      const StepSegment* const segments = by_segments ? team->segments : &whole;
      const std::size_t segment_count = by_segments ? team->segment_count : 1;
      T* const p = param.data();
      const T* const g = grad.data();
      auto walk = [&](int part) {
        for (std::size_t k = 0; k < segment_count; ++k) {
          const StepSegment& s = segments[k];
          const auto [first, units] = part_range(s.units, team->parts, part);
          const Eigen::Index end = s.offset + (first + units) * s.unit_size;
          for (Eigen::Index i = s.offset + first * s.unit_size; i < end; i += chunk) {
            const Eigen::Index len = std::min(chunk, end - i);
            update_chunk(update, Contiguous(p + i, len), ConstContiguous(g + i, len),
                         Contiguous(state + i, len)...);
          }
        }
      };
      using Walk = decltype(walk);
      team->run(
          team->self, [](void* context, int part) { (*static_cast<Walk*>(context))(part); }, &walk);
      return;
    }
  }

  // Everything else is walked chunk by chunk too. A strided param or grad chunk, or one computed
  // from an expression, is copied into a contiguous one first (and the param's written back), so
  // the update always sees contiguous arrays: one instantiation of it, vectorized, whatever the
  // tensors' types.
  Eigen::Array<T, chunk, 1> grad_copy, param_copy;
  for (Eigen::Index j = 0; j < outer; ++j) {
    for (Eigen::Index i = 0; i < inner; i += chunk) {
      const Eigen::Index len = std::min(chunk, inner - i);
      const Eigen::Index offset = j * param.innerSize() + i;

      // The grad's chunk: read in place where it is contiguous and laid out like the param.
      const auto grad_chunk = [&]() -> const T* {
        if constexpr (grad_direct) {
          if (grad_in_place) {
            const T* g = grad.data() + j * grad.outerStride() + i * grad.innerStride();
            if (grad.innerStride() == 1) return g;
            grad_copy.head(len) = ConstStrided(g, len, Eigen::InnerStride<>(grad.innerStride()));
            return grad_copy.data();
          }
        }
        if constexpr (G::IsVectorAtCompileTime) {
          if constexpr (G::RowsAtCompileTime == 1) {
            grad_copy.head(len) = grad.segment(offset, len).transpose().array();
          } else {
            grad_copy.head(len) = grad.segment(offset, len).array();
          }
        } else {
          for (Eigen::Index k = 0; k < len; ++k) {
            const auto [r, c] = position(j, i + k);
            grad_copy[k] = grad.coeff(r, c);
          }
        }
        return grad_copy.data();
      };
      const ConstContiguous g(grad_chunk(), len);

      T* p = param.data() + j * param.outerStride() + i * p_stride;
      if (p_stride == 1) {
        update_chunk(update, Contiguous(p, len), g, Contiguous(state + offset, len)...);
      } else {
        Strided strided(p, len, Eigen::InnerStride<>(p_stride));
        param_copy.head(len) = strided;
        update_chunk(update, Contiguous(param_copy.data(), len), g,
                     Contiguous(state + offset, len)...);
        strided = param_copy.head(len);
      }
    }
  }
}

/// Calls `update(p, g, s...)` over matching chunks of param, grad and each state buffer, split
/// over `team`'s threads when there is a team and the tensors are large and contiguous.
/// p and s are writable Eigen::Map<Buffer<T>>, g an Eigen::Map<const Buffer<T>>, all contiguous
/// and of the same length (at most chunk_size). So an update made where only the Scalar is known
/// (not inside a step() templated on the tensors' types) is compiled once per Scalar.
/// State buffers hold the parameter's elements in its storage order.
/// The update must write p last: when weight decay is folded into g, g reads p.
///
/// A grad that Eigen would evaluate before use (a product such as A * w) is evaluated here, once,
/// before param changes; element-wise expressions (2 * (w - t)) stay lazy and cost no memory.
template <class P, class G, class Update, class... S>
void for_each_chunk(const StepTeam* team, Eigen::DenseBase<P>& param,
                    const Eigen::DenseBase<G>& grad, Update&& update, S*... state) {
  using Nested = typename Eigen::internal::nested_eval<G, 1>::type;
  const Nested evaluated(grad.derived());
  for_each_chunk_of(team, param, evaluated, std::forward<Update>(update), state...);
}

/// Scratch space for one chunk, for values an update needs twice (Adadelta's delta).
template <class Scalar>
using ChunkScratch = Eigen::Array<Scalar, chunk_size<Scalar>, 1>;

}  // namespace detail
}  // namespace descent
