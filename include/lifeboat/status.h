// Status and Result: how every fallible call in Lifeboat reports failure.
//
// Errors are values, never exceptions: a function that can fail returns a [[nodiscard]]
// Status or Result<T>. A Status carries a canonical code (what kind of failure, which decides
// the exit code and the HTTP status, see ExitCodeFor) and a message that names the object, the
// action and, where it helps, what to do next. Each layer that passes an error up adds context
// with WithContext(). Bugs are assertions, not Status values.
//
// Thread-safety: values; copying is safe from any thread.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lifeboat {

// Canonical codes. Numbers are stable (they appear in JSON output); never renumber.
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,           // the caller or a signal stopped the operation
  kInvalidArgument = 3,     // bad input: a config typo, a malformed URL, an unknown option
  kNotFound = 5,            // an object, snapshot, table or instance that does not exist
  kAlreadyExists = 6,       // creating something that is there already
  kPermissionDenied = 7,    // the operating system or the database said no
  kFailedPrecondition = 9,  // a guard refused: version, account, window, confirmation
  kAborted = 10,            // another operation holds the instance or the lease was lost
  kUnimplemented = 12,      // not supported by this driver or this format version
  kInternal = 13,           // a broken invariant inside Lifeboat or a library
  kUnavailable = 14,        // I/O failed; trying again may help
  kDataLoss = 15,           // the repository or a transport is damaged
  kUnauthenticated = 16,    // wrong password or key
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns this status with "context: " put in front of the message; OK stays OK.
  Status WithContext(std::string_view context) const;

  // "not found: snapshot 3fa2 does not exist" style rendering for logs and tests.
  std::string ToString() const;

  // Marks a status as deliberately dropped.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() {
  return Status();
}
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status FailedPreconditionError(std::string message);
Status AbortedError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status UnavailableError(std::string message);
Status DataLossError(std::string message);
Status UnauthenticatedError(std::string message);
Status CancelledError(std::string message);

// The documented process exit code for a status (docs/CLI.md, "Exit codes"):
// 0 ok, 1 failure, 2 usage, 3 refused by a guard or wrong password, 4 busy/locked,
// 5 repository damaged, 130 cancelled.
int ExitCodeFor(const Status& status);
// The HTTP status the server answers with for a status.
int HttpStatusFor(const Status& status);

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace lifeboat

#define LB_CONCAT_INNER_(a, b) a##b
#define LB_CONCAT_(a, b) LB_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define LB_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::lifeboat::Status lb_status_ = (expr);  \
    if (!lb_status_.ok()) return lb_status_; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its status from the enclosing function.
#define LB_ASSIGN_OR_RETURN(lhs, expr) \
  LB_ASSIGN_OR_RETURN_IMPL_(LB_CONCAT_(lb_result_, __LINE__), lhs, expr)
#define LB_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                              \
  if (!result.ok()) return result.status();          \
  lhs = std::move(result).value()
