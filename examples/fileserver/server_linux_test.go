package main

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOutOfDescriptors: a file that cannot be opened because the process
// has no descriptor left gets 503 with Retry-After, not 404 (found from
// outside: under prlimit --nofile=10 an existing file answered 404), and
// is served again once descriptors are free.
func TestOutOfDescriptors(t *testing.T) {
	fx := setup(t, options{})
	check(t, os.WriteFile(filepath.Join(fx.root, "later.txt"), []byte("later"), 0o644))
	// A keep-alive connection, made while descriptors last: the request
	// below needs none but the file's own.
	resp, _ := fx.get(t, "/sub/", nil)
	equal(t, http.StatusOK, resp.StatusCode)

	fds, err := os.ReadDir("/proc/self/fd")
	check(t, err)
	var lim syscall.Rlimit
	check(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	low := lim
	low.Cur = uint64(len(fds) + 16)
	check(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	var filler []*os.File
	release := func() {
		for _, f := range filler {
			f.Close()
		}
		filler = nil
		check(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	}
	defer release()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatal(err)
			}
			break
		}
		filler = append(filler, f)
	}

	resp, body := fx.get(t, "/later.txt", nil)
	release()
	equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
	equal(t, "1", resp.Header.Get("Retry-After"))
	resp, body = fx.get(t, "/later.txt", nil)
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, "later", string(body))
}
