//go:build !go1.24

package sys

import "runtime"

// Cleanup is a cleanup registered with AddCleanup: before Go 1.24 (no
// runtime.AddCleanup) a finalizer on the object, which runs fn(arg) the
// same way. The objects this module cleans up are in no reference cycle,
// which a finalizer would keep alive.
type Cleanup struct{}

// AddCleanup arranges for fn(arg) to run once ptr is unreachable; arg must
// not be, or hold, ptr.
func AddCleanup[T, S any](ptr *T, fn func(S), arg S) Cleanup {
	runtime.SetFinalizer(ptr, func(*T) { fn(arg) })
	return Cleanup{}
}

// StopCleanup cancels the cleanup registered for ptr.
func StopCleanup[T any](ptr *T, _ Cleanup) { runtime.SetFinalizer(ptr, nil) }
