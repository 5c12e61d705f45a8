package zerocopy

// FastPaths reports whether this build has the Linux fast paths.
const FastPaths = fastPaths

// ErrZeroBeforeEOF is the Report.Fallback note for a 0 return before EOF.
var ErrZeroBeforeEOF = errZeroBeforeEOF

// StdlibPair reports whether goos's stdlib table delegates the pair.
func StdlibPair(goos string, dst, src any) bool {
	w, _ := dst.(interface{ Write([]byte) (int, error) })
	r, _ := src.(interface{ Read([]byte) (int, error) })
	if w == nil || r == nil {
		return false
	}
	s := newSource(r, noLimit)
	_, _, ok := stdlibPair(platformPaths[goos], w, &s)
	return ok
}

// UseStdlibPaths makes this build take goos's stdlib paths until restore.
func UseStdlibPaths(goos string) (restore func()) {
	old := stdlibPaths
	stdlibPaths = platformPaths[goos]
	return func() { stdlibPaths = old }
}
