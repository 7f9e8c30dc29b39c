redis {
  delivery       = "streams"
  claim_min_idle = "soon"
}
