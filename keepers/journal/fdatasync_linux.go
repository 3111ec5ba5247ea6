package journal

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data without its metadata (the receipt log is
// preallocated, so its size and block map do not change).
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
