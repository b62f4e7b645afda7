#' Output shape of a Dense layer applied to a batch
#'
#' Imports Keras (through reticulate) with whatever backend is set, builds a
#' `Dense(units)` layer and applies it to a `rows` x `cols` batch of ones.
#'
#' @param units,rows,cols Sizes.
#' @returns A list: `backend` (what Keras chose) and `shape` (integer).
#' @export
dense_output_shape <- function(units = 2L, rows = 1L, cols = 3L) {
  keras <- reticulate::import("keras")
  np <- reticulate::import("numpy", convert = FALSE)
  layer <- keras$layers$Dense(as.integer(units))
  y <- layer(np$ones(reticulate::tuple(as.integer(rows), as.integer(cols)), dtype = "float32"))
  list(backend = keras$backend$backend(), shape = as.integer(unlist(keras$ops$shape(y))))
}
