//go:build windows && !purego

package mmap_test

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// truncateRefused reports Windows's answer to shrinking a file under a
// view: ERROR_USER_MAPPED_FILE.
func truncateRefused(err error) bool { return errors.Is(err, sys.ERROR_USER_MAPPED_FILE) }

// shrink truncates f under a mapping: on Windows it checks that the
// truncation is refused and the file keeps its size, and returns false
// (the truncation scenario cannot happen here).
func shrink(t *testing.T, f *os.File, size int64) bool {
	t.Helper()
	before, err := f.Stat()
	require.NoError(t, err)
	require.ErrorIs(t, f.Truncate(size), sys.ERROR_USER_MAPPED_FILE, "Windows refuses to shrink a mapped file")
	after, err := f.Stat()
	require.NoError(t, err)
	require.Equal(t, before.Size(), after.Size())
	return false
}
