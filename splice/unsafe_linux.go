//go:build linux && !purego

package splice

import "unsafe"

func unsafeAdd(p *byte, k int) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(p), k) }
