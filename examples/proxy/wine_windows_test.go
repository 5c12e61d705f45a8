package main

import "syscall"

// underWine reports a Windows program running under Wine (ntdll exports
// wine_get_version), where some Windows facts do not hold.
func underWine() bool {
	return syscall.NewLazyDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
