# Rscript tools/check-package.R TARBALL CHECK_DIR
#
# R CMD check --as-cran --no-manual of TARBALL in CHECK_DIR, through
# rcmdcheck, judged on its result as data: every ERROR fails, and so does
# every WARNING or NOTE except those that only say what cannot be checked
# here, offline -- the incoming-feasibility NOTE when all it says is "New
# submission" (and who the maintainer is), the future-file-timestamps NOTE
# when it only says "unable to verify current time" (--as-cran forces that
# check on; it needs a time server), and the unstated-dependencies WARNING
# when it only says the package repositories could not be read. Prints the
# status, the allowed findings and the problems; exits 1 on a problem.

args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 2)

offline <- list(
  "CRAN incoming feasibility" = "^(Maintainer: .*|New submission|\\s*)$",
  "future file timestamps" = "^(unable to verify current time|\\s*)$",
  "unstated dependencies in .*tests" =
    "^(Warning: unable to access index for repository .*|\\s*cannot open URL .*|\\s*)$"
)

# Is this finding (its first line names the check, the rest says what was
# found) only about being offline?
allowed <- function(finding) {
  lines <- strsplit(finding, "\n", fixed = TRUE)[[1]]
  for (check in names(offline)) {
    if (grepl(check, lines[[1]])) {
      return(all(grepl(offline[[check]], lines[-1], perl = TRUE)))
    }
  }
  FALSE
}

result <- rcmdcheck::rcmdcheck(
  args[[1]],
  args = c("--as-cran", "--no-manual"),
  check_dir = args[[2]],
  error_on = "never",
  quiet = TRUE
)
findings <- c(
  stats::setNames(result$warnings, rep("WARNING", length(result$warnings))),
  stats::setNames(result$notes, rep("NOTE", length(result$notes)))
)
ok <- vapply(findings, allowed, logical(1))
cat(sprintf("Status: %d errors, %d warnings, %d notes\n",
            length(result$errors), length(result$warnings), length(result$notes)))
for (i in which(ok)) {
  cat("allowed:", names(findings)[[i]], strsplit(findings[[i]], "\n")[[1]][[1]], "\n")
}
problems <- c(result$errors, findings[!ok])
for (problem in problems) {
  cat(problem, "\n\n")
}
if (length(problems)) {
  quit(status = 1)
}
