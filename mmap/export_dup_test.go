package mmap

import "os"

// DupOf returns the duplicate of the caller's descriptor that m owns (nil
// after Close), so that a test can tell when it is closed without keeping
// m reachable.
func DupOf(m *Mapping) *os.File {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return nil
	}
	return m.r.file
}
