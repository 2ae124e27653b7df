#pragma once
// gzip-compresses bytes in memory, for the fuzz targets that hand their input to a reader through
// a gzip file (idx, csv): fuzzed bytes behind a valid gzip stream reach the parsing behind zlib,
// which mutations of a real gzip stream rarely do (they break its CRC first).

#include <zlib.h>

#include <cstdlib>
#include <string>
#include <string_view>

/// `bytes` as one gzip member, at zlib `level` (0-9).
inline std::string gzip_bytes(std::string_view bytes, int level = 6) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    std::abort();
  }
  std::string out(deflateBound(&z, uLong(bytes.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = uInt(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
