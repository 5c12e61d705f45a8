package zerocopy

// FastPaths reports whether this build has the Linux fast paths.
const FastPaths = fastPaths

// ErrZeroBeforeEOF is the Report.Fallback note for a 0 return before EOF.
var ErrZeroBeforeEOF = errZeroBeforeEOF
