library(testthat)
library(kbdemo)

results <- test_check("kbdemo", stop_on_failure = FALSE)

# One line per test, read by tools/test-downstream.sh:
#   kbdemo: <passed|skipped|failed>: <test> [: <skip reason>]
local({
  for (test in results) {
    outcome <- "passed"
    reason <- ""
    for (r in test$results) {
      if (inherits(r, "expectation_skip")) {
        outcome <- "skipped"
        reason <- sub("^Reason: ", "", conditionMessage(r))
      } else if (inherits(r, c("expectation_failure", "expectation_error"))) {
        outcome <- "failed"
      }
    }
    cat(sprintf("kbdemo: %s: %s%s\n", outcome, test$test, if (nzchar(reason)) paste0(": ", reason) else ""))
  }
  df <- as.data.frame(results)
  if (any(df$failed > 0 | df$error)) stop("kbdemo: tests failed", call. = FALSE)
})
