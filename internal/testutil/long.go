package testutil

import "os"

// LongEnv is the environment variable that runs the long variants of the
// tests: set to 1, the large transfers move their full sizes (64 MiB per
// pair and more) and the size matrices gain their largest sizes. Without
// it every test still runs, with sizes that keep go test ./... near a
// minute on two cores; .ci/run runs the suite once more with
// ZEROCOPY_LONG=1. ZEROCOPY_HEAVY=1 is apart: the page-cache test needs
// root and a memory cgroup as well as time.
const LongEnv = "ZEROCOPY_LONG"

// Long reports whether ZEROCOPY_LONG=1 asks for the long variants.
func Long() bool { return os.Getenv(LongEnv) == "1" }
