// Terminal helpers for the CLI: is a stream a terminal, colours, prompts, and reading a
// password without echo.
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

namespace lifeboat::cli {

bool IsTerminal(FILE* stream);
// Wraps text in an ANSI colour when `stream` is a terminal and NO_COLOR is unset.
std::string Red(const std::string& text, FILE* stream);
std::string Yellow(const std::string& text, FILE* stream);
std::string Green(const std::string& text, FILE* stream);
std::string Bold(const std::string& text, FILE* stream);
// Prints `prompt` on stderr and reads one line from the terminal; nullopt when stdin is not a
// terminal, at end of input, or once `stop` (asked five times a second) says so: a SIGINT
// must not wait for a line.
std::optional<std::string> Ask(const std::string& prompt,
                               const std::function<bool()>& stop = nullptr);
std::optional<std::string> AskSecret(const std::string& prompt);

}  // namespace lifeboat::cli
