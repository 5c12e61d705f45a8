//go:build !(linux || windows) || purego

package zerocopy

import "io"

// available reports false for every kernel path: this build has none.
func available(Method) bool { return false }

// kernel has no path here: the buffered path moves every byte.
func (k *call) kernel(dst io.Writer, s *source) (int64, bool, error) { return 0, false, nil }
