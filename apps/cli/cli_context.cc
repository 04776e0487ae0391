#include "cli_context.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/units.h"
#include "terminal.h"

namespace lifeboat::cli {
namespace {

std::string CurrentUser() {
  if (const passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  if (const char* user = std::getenv("USER")) return user;
  return "uid " + std::to_string(geteuid());
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

Result<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot read password file " + path + ": " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string password = text.str();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) return InvalidArgumentError("password file " + path + " is empty");
  return password;
}

}  // namespace

std::string HumanBytes(uint64_t bytes) {
  return FormatBytes(bytes);
}

std::string JoinStrings(const nlohmann::json& array, const std::string& separator) {
  std::string out;
  for (const auto& item : array) {
    if (!out.empty()) out += separator;
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

ProgressRenderer* CliContext::progress() {
  if (!progress_) progress_ = std::make_unique<ProgressRenderer>(stderr, global.quiet);
  return progress_.get();
}

Engine* CliContext::Keep(std::unique_ptr<Engine> engine) {
  std::lock_guard<std::mutex> lock(engine_mu_);
  engine_ = std::move(engine);
  return engine_.get();
}

bool CliContext::Cancel() {
  std::lock_guard<std::mutex> lock(engine_mu_);
  if (!engine_) return false;
  cancelled_ = true;
  engine_->Cancel();
  return true;
}

Result<Engine*> CliContext::MakeEngine(bool confirm_new_password) {
  EngineOptions options;
  std::string config = global.config;
  if (config.empty()) {
    if (const char* env = std::getenv("LIFEBOAT_CONFIG")) config = env;
  }
  if (config.empty() && std::filesystem::exists("lifeboat.toml")) config = "lifeboat.toml";
  if (!config.empty()) options.config_path = config;
  if (!global.repo.empty()) options.repository = global.repo;
  options.user = CurrentUser();
  options.host = HostName();
  options.pid = getpid();
  options.progress = progress();
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Engine> created, Engine::Create(options));
  Engine* engine = Keep(std::move(created));

  if (!global.password_file.empty()) {
    LB_ASSIGN_OR_RETURN(std::string password, ReadPasswordFile(global.password_file));
    engine->set_password(password);
  } else if (const char* env = std::getenv("LIFEBOAT_PASSWORD"); env && *env) {
    engine->set_password(env);
  } else if (std::optional<std::string> file = engine->password_file()) {
    LB_ASSIGN_OR_RETURN(std::string password, ReadPasswordFile(*file));
    engine->set_password(password);
  } else if (std::optional<std::string> typed = AskSecret("Repository password: ")) {
    if (confirm_new_password) {
      std::optional<std::string> again = AskSecret("Repeat the password: ");
      if (!again || *again != *typed) return InvalidArgumentError("the passwords do not match");
    }
    engine->set_password(*typed);
  }
  return engine;
}

int CliContext::Fail(const Status& status) {
  progress()->Finish();
  int code = ExitCodeFor(status);
  if (global.json) {
    nlohmann::json error = {{"error",
                             {{"code", std::string(StatusCodeName(status.code()))},
                              {"message", status.message()},
                              {"exit_code", code}}}};
    std::cout << error.dump(2) << std::endl;
  }
  std::cerr << Red("lifeboat: " + std::string(StatusCodeName(status.code())) + ":", stderr) << " "
            << status.message() << std::endl;
  return code;
}

int CliContext::Emit(const Result<nlohmann::json>& result,
                     const std::function<void(const nlohmann::json&)>& human) {
  if (!result.ok()) return Fail(result.status());
  progress()->Finish();
  if (global.json) {
    std::cout << result->dump(2) << std::endl;
  } else {
    human(*result);
  }
  return 0;
}

}  // namespace lifeboat::cli
