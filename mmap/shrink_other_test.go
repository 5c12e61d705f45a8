//go:build !windows || purego

package mmap_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// truncateRefused: only Windows refuses to shrink a mapped file.
func truncateRefused(error) bool { return false }

// shrink truncates f to size under a mapping and returns true.
func shrink(t *testing.T, f *os.File, size int64) bool {
	t.Helper()
	require.NoError(t, f.Truncate(size))
	return true
}
