//go:build !windows

package testutil

import (
	"errors"
	"os"
	"syscall"
)

// IsReset reports whether err is a connection reset: ECONNRESET.
func IsReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// Descriptors returns the number of open descriptors (/dev/fd).
func Descriptors() (int, error) {
	ents, err := os.ReadDir("/dev/fd")
	return len(ents), err
}

// Wine reports false: only a Windows program can run under Wine.
func Wine() bool { return false }
