#pragma once
// The name tables of the nn enums (Activation, Loss, Init) and the one lookup they all use.

#include <array>
#include <cstddef>
#include <descent/error.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace descent::nn::detail {

template <class E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

template <class E, std::size_t N>
std::string_view name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [known, name] : table) {
    if (known == value) return name;
  }
  return "?";
}

/// The value called `name`; an unknown name throws, naming `what` and listing the valid names.
template <class E, std::size_t N>
E value_named(const NameTable<E, N>& table, std::string_view name, std::string_view what) {
  std::string valid;
  for (const auto& [value, known] : table) {
    if (known == name) return value;
    valid += (valid.empty() ? "" : ", ") + std::string(known);
  }
  throw InvalidArgument("descent::nn: unknown " + std::string(what) + " '" + std::string(name) +
                        "'; valid: " + valid);
}

}  // namespace descent::nn::detail
