//go:build !linux || purego

package zerocopy

import "sync/atomic"

// spliceState: no splice here.
type spliceState struct{}

// relaySplice has no fast path here: the buffered path moves every byte.
func relaySplice(d *dirState, progress *atomic.Int64) (n int64, spliced bool, err error) {
	return 0, false, nil
}
