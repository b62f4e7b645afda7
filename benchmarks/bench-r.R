# benchmarks/bench-r.R -- how long kbackend::backend_info() takes from R.
#
#   Rscript benchmarks/bench-r.R          (RETICULATE_PYTHON names the python)
#
# * before Python started: each run in a fresh R process (callr), timing
#   library(kbackend) + backend_info() (subprocess path) -- twice: with
#   reticulate not yet loaded (the usual case at the top of a script) and
#   with reticulate already loaded (then reticulate's own discovery runs);
# * after Python started: many calls in one process (in-process path).
# Prints medians (and quartiles) in a small table. Needs callr.
suppressPackageStartupMessages(library(kbackend))

python <- Sys.getenv("RETICULATE_PYTHON")
if (!nzchar(python)) stop("set RETICULATE_PYTHON to the python to benchmark")
fresh_runs <- as.integer(Sys.getenv("KBACKEND_BENCH_FRESH", "7"))
warm_calls <- as.integer(Sys.getenv("KBACKEND_BENCH_CALLS", "200"))

fresh <- function(preload_reticulate) {
  vapply(seq_len(fresh_runs), function(i) {
    callr::r(function(preload) {
      if (preload) loadNamespace("reticulate")
      t0 <- as.numeric(Sys.time())
      library(kbackend)
      info <- backend_info()
      elapsed <- as.numeric(Sys.time()) - t0
      stopifnot(!reticulate::py_available(initialize = FALSE))
      elapsed
    }, args = list(preload = preload_reticulate), libpath = .libPaths())
  }, numeric(1))
}

cold <- fresh(FALSE)
loaded <- fresh(TRUE)

reticulate::py_config() # start Python in this process
invisible(backend_info())
now <- function() as.numeric(Sys.time()) # microsecond resolution
warm <- vapply(seq_len(warm_calls), function(i) {
  t0 <- now()
  backend_info()
  now() - t0
}, numeric(1))
t0 <- now()
for (i in seq_len(warm_calls)) backend_info()
batch_mean <- (now() - t0) / warm_calls

ms <- function(x) sprintf("%.1f", 1000 * x)
row <- function(label, x, n) {
  q <- stats::quantile(x, c(0.25, 0.5, 0.75), names = FALSE)
  data.frame(case = label, n = n, median_ms = ms(q[2]), q1_ms = ms(q[1]), q3_ms = ms(q[3]))
}
table <- rbind(
  row("before Python started, fresh R, reticulate not loaded", cold, fresh_runs),
  row("before Python started, fresh R, reticulate loaded", loaded, fresh_runs),
  row("after Python started (in-process), per call", warm, warm_calls)
)
cat(sprintf("kbackend %s, reticulate %s, R %s, python %s\n",
            utils::packageVersion("kbackend"), utils::packageVersion("reticulate"),
            getRversion(), python))
print(table, row.names = FALSE, right = FALSE)
cat(sprintf("after Python started, mean of a batch of %d calls: %s ms\n",
            warm_calls, ms(batch_mean)))
