//go:build linux && !purego

package directio_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

const cgroupRoot = "/sys/fs/cgroup/memory"

// TestPageCacheSurvives is the reason the package exists. In a child
// process confined to a 512 MiB memory cgroup, a 200 MiB hot file is
// warmed, then a 1 GiB file is streamed to /dev/null (a) with sendfile and
// (b) with the direct Reader. (b) must leave at least 90% of the hot file
// resident; the test reports (a)'s figure.
func TestPageCacheSurvives(t *testing.T) {
	if os.Getenv("ZEROCOPY_PC_MODE") != "" {
		pageCacheChild(t)
		return
	}
	if testing.Short() {
		t.Skip("writes 1.2 GiB")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a memory cgroup")
	}
	if _, err := os.Stat(filepath.Join(cgroupRoot, "memory.limit_in_bytes")); err != nil {
		t.Skipf("no cgroup v1 memory controller at %s", cgroupRoot)
	}
	dir := t.TempDir()
	hot, big := filepath.Join(dir, "hot"), filepath.Join(dir, "big")
	testutil.WriteSized(t, hot, 200<<20)
	testutil.WriteSized(t, big, 1<<30)

	cg := filepath.Join(cgroupRoot, fmt.Sprintf("zerocopy-test-%d", os.Getpid()))
	require.NoError(t, os.Mkdir(cg, 0o755))
	t.Cleanup(func() { _ = os.Remove(cg) })
	require.NoError(t, os.WriteFile(filepath.Join(cg, "memory.limit_in_bytes"), []byte("536870912"), 0o644))

	res := map[string]float64{}
	for _, mode := range []string{"sendfile", "direct"} {
		testutil.Evict(t, hot)
		testutil.Evict(t, big)
		cmd := exec.Command(os.Args[0], "-test.run=^TestPageCacheSurvives$", "-test.v")
		cmd.Env = append(os.Environ(), "ZEROCOPY_PC_MODE="+mode, "ZEROCOPY_PC_HOT="+hot, "ZEROCOPY_PC_BIG="+big, "ZEROCOPY_PC_CGROUP="+cg)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		i := strings.Index(string(out), "RESIDENT ")
		require.GreaterOrEqual(t, i, 0, string(out))
		v, err := strconv.ParseFloat(strings.Fields(string(out)[i+len("RESIDENT "):])[0], 64)
		require.NoError(t, err)
		res[mode] = v
	}
	t.Logf("hot file resident after streaming 1 GiB in a 512 MiB cgroup: sendfile %.0f%%, direct %.0f%%", res["sendfile"]*100, res["direct"]*100)
	require.GreaterOrEqual(t, res["direct"], 0.9, "direct I/O must leave the hot set in the cache")
}

func pageCacheChild(t *testing.T) {
	// Join the cgroup before touching either file, so its pages are charged here.
	cg := os.Getenv("ZEROCOPY_PC_CGROUP")
	require.NoError(t, os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644))
	hot, big := os.Getenv("ZEROCOPY_PC_HOT"), os.Getenv("ZEROCOPY_PC_BIG")
	h, err := os.Open(hot)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, testutil.OnlyReader{R: h})
	require.NoError(t, err)
	require.NoError(t, h.Close())
	warm := testutil.Resident(t, hot)
	require.Greater(t, warm, 0.9, "the hot file is warm before streaming")

	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	switch os.Getenv("ZEROCOPY_PC_MODE") {
	case "sendfile":
		f, err := os.Open(big)
		require.NoError(t, err)
		var rep zerocopy.Report
		c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
		n, err := c.SendFile(null, f, 0, -1)
		require.NoError(t, err)
		require.Equal(t, int64(1<<30), n)
		require.Equal(t, zerocopy.MethodSendfile, rep.Method)
		_ = f.Close()
	case "direct":
		f, err := directio.OpenFile(big, os.O_RDONLY, 0)
		require.NoError(t, err)
		r, err := directio.NewReader(f, nil)
		require.NoError(t, err)
		require.True(t, r.Direct())
		n, err := r.WriteTo(null)
		require.NoError(t, err)
		require.Equal(t, int64(1<<30), n)
		require.NoError(t, r.Close())
		_ = f.Close()
	}
	fmt.Printf("RESIDENT %.4f\n", testutil.Resident(t, hot))
}
