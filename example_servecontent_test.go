package zerocopy_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/zerocopy-go/zerocopy"
)

// One open file serves every request at once: ServeContent reads it only
// at explicit offsets (sendfile, pread), never through its own offset.
func ExampleServeContent() {
	dir, err := os.MkdirTemp("", "zerocopy-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hello.txt")
	if err := os.WriteFile(path, []byte("hello, zero-copy world\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(path) // shared by every request; closed at the end
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zerocopy.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	}))
	defer srv.Close()

	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Range", "bytes=7-15")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	fmt.Println(resp.Header.Get("Content-Range"), resp.Header.Get("Content-Type"))
	fmt.Printf("%q\n", body)
	// Output:
	// 206 Partial Content
	// bytes 7-15/23 text/plain; charset=utf-8
	// "zero-copy"
}
