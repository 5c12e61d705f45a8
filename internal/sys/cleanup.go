//go:build go1.24

package sys

import "runtime"

// Cleanup is a cleanup registered with AddCleanup: runtime.AddCleanup's
// from Go 1.24 on, a finalizer on older releases (cleanup_go123.go). The
// module supports Go 1.22, and this is the one thing it needs from 1.24.
type Cleanup struct{ c runtime.Cleanup }

// AddCleanup arranges for fn(arg) to run once ptr is unreachable, as
// runtime.AddCleanup does; arg must not be, or hold, ptr.
func AddCleanup[T, S any](ptr *T, fn func(S), arg S) Cleanup {
	return Cleanup{runtime.AddCleanup(ptr, fn, arg)}
}

// StopCleanup cancels the cleanup c registered for ptr.
func StopCleanup[T any](ptr *T, c Cleanup) { c.c.Stop() }
