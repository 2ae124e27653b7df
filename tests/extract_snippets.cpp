// Writes every ```cpp block of the given Markdown files to its own .cpp file, so a test can build
// the README's and the docs' examples exactly as written.
//
//   extract_snippets OUT_DIR FILE.md...    -> OUT_DIR/<file>_<n>.cpp, prints how many

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: extract_snippets OUT_DIR FILE.md...\n";
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  int total = 0;
  for (int i = 2; i < argc; ++i) {
    const std::filesystem::path md = argv[i];
    std::ifstream in(md);
    if (!in) {
      std::cerr << "extract_snippets: cannot read " << md << "\n";
      return 1;
    }
    std::string line, code;
    bool inside = false;
    int n = 0, line_no = 0, start = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!inside && line.rfind("```cpp", 0) == 0) {
        inside = true;
        code.clear();
        start = line_no;
      } else if (inside && line.rfind("```", 0) == 0) {
        inside = false;
        const auto name = md.stem().string() + "_" + std::to_string(++n) + ".cpp";
        std::ofstream(out / name) << "// from " << md.filename().string() << ", line " << start
                                  << "\n" << code;
        ++total;
      } else if (inside) {
        code += line + "\n";
      }
    }
    if (inside) {
      std::cerr << "extract_snippets: " << md << ": ```cpp block from line " << start
                << " never closes\n";
      return 1;
    }
  }
  std::cout << total << " snippets\n";
  return 0;
}
