# Hand-built surveys and PSOCK clusters for test-backend-survey.R,
# test-survey-methods.R and test-workers.R.

# A PSOCK cluster of `n` workers that find the installed kbackend. Used
# inside in_fresh_r(), which sends only self-contained functions: pass it as
# an argument.
start_psock <- function(n) {
  cl <- parallel::makePSOCKcluster(n)
  parallel::clusterCall(cl, .libPaths, .libPaths())
  cl
}
environment(start_psock) <- globalenv()

# One survey row as a worker reports it; `...` overrides fields.
survey_row <- function(worker, ...) {
  row <- list(
    worker = worker, host = "node1", pid = 1000L + worker, python = "/venv/bin/python",
    backend = "jax", device = "cpu", source = "environment", status = "ok", keras_version = "3.15.1",
    locked = FALSE, error = NA_character_
  )
  utils::modifyList(row, list(...))
}

survey_of <- function(...) new_survey(list(...))
