# This file is part of the standard setup for testthat.
# It is recommended that you do not modify it.
#
# Where should you do additional test configuration?
# Learn more about the roles of various files in:
# * https://r-pkgs.org/testing-design.html#sec-tests-files-overview
# * https://testthat.r-lib.org/articles/special-files.html
#
# kbackend adds a JUnit report (see below) and, after test_check(), a
# closing line that counts tests (not expectations) and one line per skip
# reason, e.g.
#   testthat: 120 passed, 0 failed, 0 skipped
#   testthat: skipped 12: needs a Keras 3 environment (...)
# which tools/test-r.sh shows from tests/testthat.Rout. Under
# KBACKEND_STRICT_TESTS=true (the lab) any skip fails the run.

library(testthat)
library(kbackend)

# KBACKEND_TESTTHAT_JUNIT names a file for a JUnit XML report beside the
# usual one: tools/test-r.sh tallies the lab's results from it.
junit <- Sys.getenv("KBACKEND_TESTTHAT_JUNIT")
reporter <- if (nzchar(junit)) {
  MultiReporter$new(list(CheckReporter$new(), JunitReporter$new(file = junit)))
} else {
  check_reporter()
}
results <- test_check("kbackend", reporter = reporter, stop_on_failure = FALSE)

local({
  df <- as.data.frame(results)
  bad <- df$failed > 0 | df$error
  skipped <- df$skipped & !bad
  reasons <- unlist(lapply(results[skipped], function(test) {
    for (r in test$results) {
      if (inherits(r, "expectation_skip")) {
        return(sub("^Reason: ", "", conditionMessage(r)))
      }
    }
    "(no reason given)"
  }))
  cat(sprintf("\ntestthat: %d passed, %d failed, %d skipped\n",
              sum(!bad & !skipped), sum(bad), sum(skipped)))
  counts <- sort(table(reasons), decreasing = TRUE)
  for (reason in names(counts)) {
    cat(sprintf("testthat: skipped %d: %s\n", counts[[reason]], reason))
  }
  if (any(bad)) {
    stop("testthat: ", sum(bad), " tests failed", call. = FALSE)
  }
  strict <- tolower(Sys.getenv("KBACKEND_STRICT_TESTS")) %in% c("true", "1", "yes")
  if (strict && any(skipped)) {
    stop("testthat: KBACKEND_STRICT_TESTS=true, and ", sum(skipped), " tests skipped",
         call. = FALSE)
  }
})
