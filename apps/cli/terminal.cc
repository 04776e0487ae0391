#include "terminal.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>

namespace lifeboat::cli {
namespace {

std::string Colour(const char* code, const std::string& text, FILE* stream) {
  if (!IsTerminal(stream) || std::getenv("NO_COLOR") != nullptr) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

}  // namespace

bool IsTerminal(FILE* stream) {
  return isatty(fileno(stream)) == 1;
}

std::string Red(const std::string& text, FILE* stream) {
  return Colour("31", text, stream);
}
std::string Yellow(const std::string& text, FILE* stream) {
  return Colour("33", text, stream);
}
std::string Green(const std::string& text, FILE* stream) {
  return Colour("32", text, stream);
}
std::string Bold(const std::string& text, FILE* stream) {
  return Colour("1", text, stream);
}

std::optional<std::string> Ask(const std::string& prompt, const std::function<bool()>& stop) {
  if (!IsTerminal(stdin)) return std::nullopt;
  std::cerr << prompt << std::flush;
  // A terminal in canonical mode is readable once a whole line (or the end) was typed.
  for (;;) {
    if (stop && stop()) {
      std::cerr << "\n";
      return std::nullopt;
    }
    pollfd in{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&in, 1, 200);
    if (ready > 0 || (ready < 0 && errno != EINTR)) break;
  }
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  return line;
}

std::optional<std::string> AskSecret(const std::string& prompt) {
  if (!IsTerminal(stdin)) return std::nullopt;
  termios old_mode{};
  tcgetattr(STDIN_FILENO, &old_mode);
  termios quiet = old_mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::optional<std::string> line = Ask(prompt);
  tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
  std::cerr << "\n";
  return line;
}

}  // namespace lifeboat::cli
