//go:build unix && !linux

package stonly

import "syscall"

func setPdeathsig(*syscall.SysProcAttr) {}
