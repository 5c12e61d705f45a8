package zerocopy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestREADMECode keeps README.md's Go code compiling: every ```go block of
// the README is a whole program, kept here as a file readme_*_test.go
// holding the same text with "package zerocopy_test" for "package main"
// (its main is an ordinary function there). This package's tests build
// only if the programs do, and this test fails when the README and the
// files part.
func TestREADMECode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?ms)^```go\n(.*?)^```$").FindAllSubmatch(readme, -1)
	require.NotEmpty(t, blocks, "README.md has no ```go block")
	files, err := filepath.Glob("readme_*_test.go")
	require.NoError(t, err)
	kept := map[string]string{}
	for _, name := range files {
		if name == "readme_test.go" {
			continue
		}
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		kept[strings.Replace(string(b), "package zerocopy_test\n", "package main\n", 1)] = name
	}
	for _, b := range blocks {
		code := string(b[1])
		_, ok := kept[code]
		require.True(t, ok, "README.md's block\n%s\nis in no readme_*_test.go file (add or update the file: the README's code must compile)", code)
	}
	require.Len(t, kept, len(blocks), "a readme_*_test.go file holds a program the README no longer shows")
}

// TestREADMEQuickStart runs the README's quick start as the README says
// (go run . big.iso > copy.iso): the copy has the source's bytes, and the
// line on standard error counts them and names the method that ran.
func TestREADMEQuickStart(t *testing.T) {
	dir := t.TempDir()
	data := testutil.Data(17, 3<<20+5)
	src := filepath.Join(dir, "big.iso")
	require.NoError(t, os.WriteFile(src, data, 0o644))
	stdout, err := os.Create(filepath.Join(dir, "copy.iso"))
	require.NoError(t, err)
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	require.NoError(t, err)
	defer stderr.Close()

	args, out, errOut := os.Args, os.Stdout, os.Stderr
	os.Args, os.Stdout, os.Stderr = []string{"quick", src}, stdout, stderr
	func() {
		defer func() { os.Args, os.Stdout, os.Stderr = args, out, errOut }()
		main() // readme_quickstart_test.go
	}()

	testutil.RequireBytes(t, data, testutil.ReadFile(t, stdout.Name()))
	want := zerocopy.MethodBuffered
	switch {
	case zerocopy.MethodCopyFileRange.Available():
		want = zerocopy.MethodCopyFileRange
	case zerocopy.MethodSendfile.Available():
		want = zerocopy.MethodSendfile
	case runtime.GOOS == "freebsd" && zerocopy.MethodStdlib.Available():
		want = zerocopy.MethodStdlib
	}
	got := testutil.ReadFile(t, stderr.Name())
	require.Equal(t, fmt.Sprintf("%d bytes by %v\n", len(data), want), string(got))
}
