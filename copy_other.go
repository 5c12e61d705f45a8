//go:build !linux || purego

package zerocopy

import "io"

// available reports false for every fast path: this build has none.
func available(Method) bool { return false }

// fastCopy has no fast path here: the buffered copy moves every byte.
func fastCopy(dst io.Writer, src any, off, remain int64, t *tally) (n int64, done bool, err error) {
	return 0, remain == 0, nil
}
