package main

import "syscall"

// underWine reports a Windows program running under Wine (ntdll exports
// wine_get_version), whose I/O is 10-50x slower than Windows's.
func underWine() bool {
	return syscall.NewLazyDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
