/**
 * The R program that wraps a user's `r_query` (written to the working directory as `run.R`).
 *
 * Input (written by Node): `columns.csv` (name, data type per column) and `data.csv` (no header;
 * per column a quoted value and a mask field, `1` for NULL). Reading all values as text and applying
 * the masks keeps NULL and the string "NA" apart.
 * The user's code (`query.R`) runs in the global environment with the SQL result as the data frame
 * `data`; the value of its last expression is the result (a data frame, or anything
 * `as.data.frame` accepts). Output: `result_columns.csv` (name, data type) and `result.csv` in the
 * input's format. An R error ends with status 3 and its message in `error.txt`.
 */
export const R_WRAPPER = String.raw`
options(warn = 1, stringsAsFactors = FALSE, useFancyQuotes = FALSE)
.sightline_fail <- function(e) {
  msg <- conditionMessage(e)
  call <- conditionCall(e)
  if (!is.null(call) && !grepl("^(eval|doTryCatch|tryCatch)\\(", deparse(call)[1])) msg <- paste0("Error in ", deparse(call)[1], ": ", msg)
  writeLines(enc2utf8(msg), "error.txt", useBytes = TRUE)
  quit(save = "no", status = 3)
}
data <- tryCatch({
  cols <- read.csv("columns.csv", header = FALSE, colClasses = "character", na.strings = character(0), encoding = "UTF-8", col.names = c("name", "type"))
  n <- nrow(cols)
  raw <- if (file.info("data.csv")$size > 0) {
    read.csv("data.csv", header = FALSE, colClasses = "character", na.strings = character(0), encoding = "UTF-8", quote = "\"", comment.char = "", strip.white = FALSE, blank.lines.skip = FALSE)
  } else NULL
  convert <- function(x, type) {
    switch(type,
      Integer = { v <- as.numeric(x); if (all(is.na(v) | abs(v) <= .Machine$integer.max)) as.integer(v) else v },
      BigInt = as.numeric(x),
      Float = as.numeric(x),
      Boolean = x == "true",
      Date = as.Date(x, format = "%Y-%m-%d"),
      DateTime = as.POSIXct(sub("Z$", "", x), format = "%Y-%m-%dT%H:%M:%OS", tz = "UTC"),
      x)
  }
  out <- vector("list", n)
  for (i in seq_len(n)) {
    x <- if (is.null(raw)) character(0) else raw[[2 * i - 1]]
    if (!is.null(raw)) x[raw[[2 * i]] == "1"] <- NA
    out[[i]] <- suppressWarnings(convert(x, cols$type[i]))
  }
  names(out) <- cols$name
  as.data.frame(out, check.names = FALSE, optional = TRUE)
}, error = .sightline_fail)
rm(list = setdiff(ls(all.names = TRUE), c("data", ".sightline_fail")))

.sightline_value <- tryCatch({
  exprs <- parse("query.R", encoding = "UTF-8", keep.source = FALSE)
  eval(exprs, envir = globalenv())
}, error = .sightline_fail)

tryCatch({
  v <- .sightline_value
  if (is.null(v)) stop("The R query must end with a data frame (the value of its last expression); it ended with NULL", call. = FALSE)
  if (!is.data.frame(v)) v <- tryCatch(as.data.frame(v, stringsAsFactors = FALSE), error = function(e) stop(paste0("The R query must end with a data frame (the value of its last expression); it ended with ", class(.sightline_value)[1]), call. = FALSE))
  fmt <- function(x) {
    if (is.factor(x)) x <- as.character(x)
    if (inherits(x, "POSIXt")) return(list("DateTime", format(as.POSIXct(x), "%Y-%m-%dT%H:%M:%OS3Z", tz = "UTC")))
    if (inherits(x, "Date")) return(list("Date", format(x, "%Y-%m-%d")))
    if (is.logical(x)) return(list("Boolean", ifelse(x, "true", "false")))
    if (is.integer(x)) return(list("Integer", as.character(x)))
    if (is.numeric(x)) {
      s <- sprintf("%.15g", x)
      exact <- is.na(x) | !is.finite(x) | suppressWarnings(as.numeric(s)) == x
      s[!exact] <- sprintf("%.17g", x[!exact])
      return(list("Float", s))
    }
    if (is.character(x)) return(list("String", enc2utf8(x)))
    if (is.list(x)) return(list("String", vapply(x, function(e) paste(format(e), collapse = ", "), "")))
    list("String", as.character(x))
  }
  types <- character(ncol(v))
  cells <- vector("list", 2 * ncol(v))
  for (i in seq_len(ncol(v))) {
    f <- fmt(v[[i]])
    types[i] <- f[[1]]
    missing <- is.na(v[[i]])
    text <- f[[2]]
    text[missing] <- ""
    cells[[2 * i - 1]] <- text
    cells[[2 * i]] <- ifelse(missing, "1", "")
  }
  write.table(data.frame(name = enc2utf8(names(v)), type = types, stringsAsFactors = FALSE), "result_columns.csv", sep = ",", quote = TRUE, qmethod = "double", row.names = FALSE, col.names = FALSE, fileEncoding = "UTF-8")
  if (ncol(v) > 0 && nrow(v) > 0) {
    names(cells) <- paste0("c", seq_along(cells))
    write.table(as.data.frame(cells, stringsAsFactors = FALSE), "result.csv", sep = ",", quote = TRUE, qmethod = "double", row.names = FALSE, col.names = FALSE, fileEncoding = "UTF-8")
  } else file.create("result.csv")
}, error = .sightline_fail)
quit(save = "no", status = 0)
`;
