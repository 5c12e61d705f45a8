package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

func TestCopy(t *testing.T) {
	testutil.NoLeaks(t)
	for _, size := range []int{0, 1, 4095, 3<<20 + 17} {
		dir := t.TempDir()
		data := testutil.Data(uint64(size), size)
		src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
		require.NoError(t, os.WriteFile(src, data, 0o640))
		var log bytes.Buffer
		require.NoError(t, run(src, dst, &directio.ReaderOptions{BlockSize: 64 << 10, Depth: 2}, &log, true))
		testutil.RequireBytes(t, data, testutil.ReadFile(t, dst))
		fi, err := os.Stat(dst)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
		direct := "false"
		if f, err := directio.OpenFile(src, os.O_RDONLY, 0); err == nil {
			direct = "true"
			require.NoError(t, f.Close())
		}
		require.Regexp(t, regexp.MustCompile(`\d+ bytes in .*, direct I/O: read `+direct+`, write `+direct), log.String())
	}
}

func TestProgressLine(t *testing.T) {
	line := progressLine(450<<20, 1000<<20, 3*time.Second)
	require.Equal(t, " 45.0% 450.0 MiB / 1000.0 MiB  150.0 MiB/s  ETA 4s", line)
	require.Contains(t, progressLine(0, 0, 0), "100.0%")
}

func TestMissingSource(t *testing.T) {
	err := run(filepath.Join(t.TempDir(), "nope"), filepath.Join(t.TempDir(), "x"), nil, &bytes.Buffer{}, false)
	require.ErrorIs(t, err, os.ErrNotExist)
}
