package dockerresponder

import (
	"fmt"
	"strconv"
	"strings"
)

// linuxSignals numbers the signals a kill may send. They are the Linux
// numbers whatever the OS hemostatd runs on: the signal goes to a process
// in a Linux container.
var linuxSignals = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7,
	"FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13,
	"ALRM": 14, "TERM": 15, "STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19,
	"TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25,
	"VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "PWR": 30, "SYS": 31,
}

// parseSignal accepts "SIGKILL", "kill", "9" or "SIGRTMIN+3" and returns
// the canonical name the engine understands and the number.
func parseSignal(s string) (string, int, error) {
	in := strings.ToUpper(strings.TrimSpace(s))
	if n, err := strconv.Atoi(in); err == nil {
		if n < 1 || n > 64 {
			return "", 0, fmt.Errorf("signal %q: numbers run from 1 to 64", s)
		}
		for name, num := range linuxSignals {
			if num == n {
				return "SIG" + name, n, nil
			}
		}
		return in, n, nil
	}
	in = strings.TrimPrefix(in, "SIG")
	if n, ok := linuxSignals[in]; ok {
		return "SIG" + in, n, nil
	}
	if rest, ok := strings.CutPrefix(in, "RTMIN+"); ok {
		if k, err := strconv.Atoi(rest); err == nil && k >= 0 && k <= 30 {
			return "SIGRTMIN+" + rest, 34 + k, nil
		}
	}
	return "", 0, fmt.Errorf("unknown signal %q", s)
}
