package mmap_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

// truncateScenario maps 4 pages, shrinks the file to 1 page, and checks that
// ReadAt, WriteAt and WriteTo report ErrTruncated with exact counts. It
// returns a description of the first failed expectation, or "".
func truncateScenario(dir string, mode mmap.Mode) string {
	data := testutil.Data(20, 4*page)
	path := dir + "/f"
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err.Error()
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	m, err := mmap.Map(f, 0, 0, mode)
	if err != nil {
		return err.Error()
	}
	defer m.Close()
	if err := f.Truncate(int64(page)); err != nil {
		if truncateRefused(err) {
			// Windows: the file cannot shrink under a view; all of it
			// still reads.
			buf := make([]byte, len(data))
			if n, err := m.ReadAt(buf, 0); err != nil || !bytes.Equal(buf[:n], data) {
				return fmt.Sprintf("ReadAt after the refused truncation: n=%d err=%v", n, err)
			}
			return ""
		}
		return err.Error()
	}
	check := func(what string, n int64, err error, want int64) string {
		if !errorsIs(err, mmap.ErrTruncated) || n != want {
			return fmt.Sprintf("%s: n=%d err=%v, want n=%d and ErrTruncated", what, n, err, want)
		}
		return ""
	}
	buf := make([]byte, 3*page)
	n, err := m.ReadAt(buf, 100)
	if msg := check("ReadAt", int64(n), err, int64(page-100)); msg != "" {
		return msg
	}
	if !bytes.Equal(buf[:n], data[100:page]) {
		return "ReadAt: wrong bytes before the fault"
	}
	var out bytes.Buffer
	k, err := m.WriteTo(testutil.OnlyWriter{W: &out})
	if msg := check("WriteTo(buffer)", k, err, int64(page)); msg != "" {
		return msg
	}
	if !bytes.Equal(out.Bytes(), data[:page]) {
		return fmt.Sprintf("WriteTo(buffer): %d bytes arrived, want exactly the first page", out.Len())
	}
	if mode != mmap.ReadOnly {
		n, err = m.WriteAt(make([]byte, 2*page), int64(page/2))
		if msg := check("WriteAt", int64(n), err, int64(page-page/2)); msg != "" {
			return msg
		}
	}
	return ""
}

func errorsIs(err, target error) bool {
	for err != nil {
		if err == target {
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestTruncatedUnderMapping(t *testing.T) {
	if !realMaps() {
		t.Skip("the portable mapping is a copy: the file cannot shrink under it")
	}
	testutil.SkipUnlessFaultAddresses(t)
	testutil.NoLeaks(t)
	for _, mode := range modes() {
		t.Run(mode.String(), func(t *testing.T) {
			require.Empty(t, truncateScenario(t.TempDir(), mode))
		})
	}
}

// TestTruncatedWriteToSocket: into a socket the kernel reads the mapping
// inside write(2), where a missing page is EFAULT, not SIGBUS. (qemu-user
// reads guest memory itself for write(2): a SIGBUS there, and without its
// address on qemu-aarch64.)
func TestTruncatedWriteToSocket(t *testing.T) {
	if !realMaps() {
		t.Skip("the portable mapping is a copy")
	}
	testutil.SkipUnlessFaultAddresses(t)
	testutil.NoLeaks(t)
	for _, off := range []int64{0, 100, int64(page) + 1} {
		t.Run(fmt.Sprint(off), func(t *testing.T) {
			data := testutil.Data(21, 40*page)
			f := testutil.File(t, t.TempDir(), "f", data)
			m, err := mmap.Map(f, off, 0, mmap.ReadOnly)
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Close() })
			const keep = 19 // pages the file keeps: the cut falls inside a 64 KiB chunk
			if !shrink(t, f, int64(keep*page)) {
				return
			}
			c, s := testutil.TCPPair(t)
			got := testutil.Collect(t, s)
			n, err := m.WriteTo(c)
			require.ErrorIs(t, err, mmap.ErrTruncated)
			require.NoError(t, c.CloseWrite())
			arrived := got()
			require.Equal(t, n, int64(len(arrived)))
			require.Equal(t, int64(keep*page)-off, n, "every byte before the first missing page")
			testutil.RequireBytes(t, data[off:off+n], arrived)
		})
	}
}

const childEnv = "ZEROCOPY_MMAP_CHILD"

// TestTruncatedInChild runs the truncation scenario in a fresh process
// (nothing else on its goroutines, SetPanicOnFault at its default), which
// must exit cleanly. A second child touches the truncated page through
// Bytes, which the documentation says is unprotected: it must die of the
// fault, not return garbage.
func TestTruncatedInChild(t *testing.T) {
	if !realMaps() {
		t.Skip("the portable mapping is a copy")
	}
	if mode := os.Getenv(childEnv); mode != "" {
		return // the child's work is done in TestMain
	}
	testutil.SkipUnlessFaultAddresses(t)
	for _, mode := range []string{"scenario", "bytes"} {
		cmd := testutil.Command(t, os.Args[0], "-test.run=^TestTruncatedInChild$")
		cmd.Env = append(os.Environ(), childEnv+"="+mode, "ZEROCOPY_MMAP_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		switch mode {
		case "scenario":
			require.NoError(t, err, string(out))
			require.Contains(t, string(out), "child: truncation handled")
		case "bytes":
			if runtime.GOOS == "windows" {
				// The file cannot shrink under a view: the page stays.
				require.NoError(t, err, string(out))
				require.Contains(t, string(out), "truncate refused")
				continue
			}
			require.Error(t, err, "touching a truncated page through Bytes must not succeed")
			require.True(t, strings.Contains(string(out), "unexpected fault address") || strings.Contains(string(out), "SIGBUS"), string(out))
		}
	}
}

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "scenario":
		dir := os.Getenv("ZEROCOPY_MMAP_DIR")
		for _, mode := range []mmap.Mode{mmap.ReadOnly, mmap.ReadWrite, mmap.CopyOnWrite} {
			if msg := truncateScenario(dir, mode); msg != "" {
				fmt.Println("child:", mode, msg)
				os.Exit(1)
			}
		}
		fmt.Println("child: truncation handled")
		os.Exit(0)
	case "bytes":
		dir := os.Getenv("ZEROCOPY_MMAP_DIR")
		path := dir + "/f"
		_ = os.WriteFile(path, testutil.Data(22, 4*page), 0o644)
		mp, err := mmap.Open(path)
		if err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
		if err := os.Truncate(path, int64(page)); err != nil {
			fmt.Println("truncate refused:", err)
		}
		b := mp.Bytes()
		fmt.Println("read past EOF:", b[3*page]) // SIGBUS: the process dies here
		os.Exit(0)
	}
	os.Exit(m.Run())
}
