package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuMark is a point in time with the machine's busy CPU time and this process's CPU time,
// so that a timed part can say who was using the cores: on a 2-core machine the platform
// and Postgres share them, and which one is busy decides what to make faster.
type cpuMark struct {
	at      time.Time
	machine time.Duration // busy time summed over all cores; 0 where /proc/stat is missing
	self    time.Duration
}

func markCPU() cpuMark {
	m := cpuMark{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
		for i, s := range f[1:] {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || i == 3 || i == 4 { // idle and iowait are not busy
				continue
			}
			m.machine += time.Duration(v) * time.Second / 100 // USER_HZ
		}
	}
	return m
}

// cpuSince describes the CPU use from m to now: wall time, how busy the machine's cores
// were, and how much of that was this process.
func cpuSince(m cpuMark) string {
	n := markCPU()
	wall := n.at.Sub(m.at).Seconds()
	self := (n.self - m.self).Seconds()
	out := fmt.Sprintf("timed part: %.3f s wall, this process %.3f CPU-s", wall, self)
	if busy := (n.machine - m.machine).Seconds(); busy > 0 {
		out += fmt.Sprintf(", everything else (Postgres, Redis, …) %.3f CPU-s; %d cores %.0f%% busy", busy-self, runtime.NumCPU(), 100*busy/wall/float64(runtime.NumCPU()))
	}
	return out
}
