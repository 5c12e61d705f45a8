//go:build !linux

package zerocopy

import "io"

// interruptible does nothing here: a blocking pipe or terminal that takes
// no deadline is not made interruptible on this platform (Copier.Copy's
// doc says so).
func interruptible(dst io.Writer, s source) (io.Writer, source, func()) {
	return dst, s, func() {}
}
