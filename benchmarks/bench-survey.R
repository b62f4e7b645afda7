# benchmarks/bench-survey.R -- how long kbackend::backend_survey(cl) takes.
#
#   Rscript benchmarks/bench-survey.R     (RETICULATE_PYTHON names the python)
#
# For PSOCK clusters of 2 and 8 workers (cluster start-up not timed): one
# warm-up survey, then KBACKEND_BENCH_RUNS (default 7) timed surveys. No
# worker has started Python, so each asks the bundled module in a subprocess,
# all workers at once. Prints medians (and quartiles), in total and per
# worker. Also times use_keras_backend_on(cl, <the current backend>), which
# checks in every worker and then sets in every worker.
suppressPackageStartupMessages(library(kbackend))

python <- Sys.getenv("RETICULATE_PYTHON")
if (!nzchar(python)) stop("set RETICULATE_PYTHON to the python to benchmark")
runs <- as.integer(Sys.getenv("KBACKEND_BENCH_RUNS", "7"))
sizes <- c(2L, 8L)
backend <- Sys.getenv("KERAS_BACKEND", "jax")
use_keras_backend(backend)  # the workers inherit it

now <- function() as.numeric(Sys.time()) # microsecond resolution
time_runs <- function(f) {
  f() # warm-up: loads kbackend and reticulate in every worker
  vapply(seq_len(runs), function(i) {
    t0 <- now()
    f()
    now() - t0
  }, numeric(1))
}

ms <- function(x) sprintf("%.1f", 1000 * x)
row <- function(label, workers, x) {
  q <- stats::quantile(x, c(0.25, 0.5, 0.75), names = FALSE)
  data.frame(
    case = label, workers = workers, n = length(x),
    median_ms = ms(q[2]), q1_ms = ms(q[1]), q3_ms = ms(q[3]),
    per_worker_ms = ms(q[2] / workers)
  )
}

table <- NULL
for (n in sizes) {
  cl <- parallel::makePSOCKcluster(n)
  parallel::clusterCall(cl, .libPaths, .libPaths())
  survey <- backend_survey(cl)
  stopifnot(nrow(survey$workers) == n, survey$consistent,
            all(survey$workers$backend == backend))
  table <- rbind(
    table,
    row("backend_survey(cl)", n, time_runs(function() backend_survey(cl))),
    row("use_keras_backend_on(cl, backend)", n,
        time_runs(function() use_keras_backend_on(cl, backend)))
  )
  parallel::stopCluster(cl)
}

cat(sprintf("kbackend %s, R %s, %d cores, python %s, backend %s\n",
            utils::packageVersion("kbackend"), getRversion(),
            parallel::detectCores(), python, backend))
print(table, row.names = FALSE, right = FALSE)
