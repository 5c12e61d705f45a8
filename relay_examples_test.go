package zerocopy_test

import (
	"os"
	"testing"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestRelayExamplesNoLeaks runs the Relay examples (go test checks their
// output) under the leak check: each one ends its relays, servers and
// goroutines, and closes every descriptor it opened.
func TestRelayExamplesNoLeaks(t *testing.T) {
	for _, ex := range []struct {
		name string
		run  func()
	}{
		{"WithReader", ExampleWithReader},
		{"Relay_hijack", ExampleRelay_hijack},
		{"Relayer_shutdown", ExampleRelayer_shutdown},
	} {
		t.Run(ex.name, func(t *testing.T) {
			testutil.NoLeaks(t)
			devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			stdout := os.Stdout
			os.Stdout = devNull
			defer func() {
				os.Stdout = stdout
				devNull.Close()
			}()
			ex.run()
		})
	}
}
